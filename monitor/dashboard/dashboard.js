/**
 * The consumer-lag dashboard: polls the monitor's /api/v1/lag and draws one card per
 * consumer group. Plain browser module, no build step. Cards and charts are kept between
 * polls and only updated, so an open partition table stays open and charts do not flicker.
 * Every value from the API goes in through textContent: group and topic names come from
 * the cluster and are not trusted as HTML.
 */

const POLL_MS = 2000
const FETCH_TIMEOUT_MS = 5000
/** The data counts as stale when the monitor has not polled the cluster for this many of its intervals. */
const STALE_INTERVALS = 3
const STATUS_ORDER = { ERR: 0, WARN: 1, OK: 2 }
const CHART_HEIGHT = 116
const COLORS = { lag: '#2563eb', lagSeconds: '#7c3aed' }

const numberFormat = new Intl.NumberFormat('en-US')
const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 })
const timeFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' })

const state = {
  /** The last answer of the API, or undefined before the first one. */
  data: undefined,
  /** Why the last poll failed, or undefined when it worked. */
  error: undefined,
  /** group name → { element, parts, charts } */
  cards: new Map(),
}

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`)

/** A small element builder: attributes (data-*, class, …) and children (nodes or text). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) element.setAttribute(name, String(value))
  }
  for (const child of children) element.append(child)
  return element
}

function formatCount(value) {
  return Number.isFinite(value) ? numberFormat.format(Math.round(value)) : '–'
}

/** Seconds as people read them: 0.4 s, 12 s, 4m 05s, 3h 07m, 2d 4h. */
function formatSeconds(value) {
  if (!Number.isFinite(value)) return '–'
  const seconds = Math.max(0, value)
  if (seconds < 10) return `${Number(seconds.toFixed(1))} s`
  if (seconds < 60) return `${Math.round(seconds)} s`
  const pad = (n) => String(n).padStart(2, '0')
  const whole = Math.round(seconds)
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${pad(whole % 60)}s`
  if (whole < 86400) return `${Math.floor(whole / 3600)}h ${pad(Math.floor((whole % 3600) / 60))}m`
  return `${Math.floor(whole / 86400)}d ${Math.floor((whole % 86400) / 3600)}h`
}

function formatAge(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000))
  return seconds < 1 ? 'just now' : `${formatSeconds(seconds)} ago`
}

function sortGroups(groups) {
  return [...groups].sort(
    (a, b) =>
      (STATUS_ORDER[a.status] ?? -1) - (STATUS_ORDER[b.status] ?? -1) || a.group.localeCompare(b.group),
  )
}

// ---------------------------------------------------------------------------------------
// Polling

async function poll() {
  try {
    const response = await fetch('api/v1/lag', {
      cache: 'no-store',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    })
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    state.data = await response.json()
    state.error = undefined
    render()
  } catch (error) {
    state.error = error instanceof Error ? error.message : String(error)
    renderFreshness()
  } finally {
    // A slow answer delays the next poll rather than overlapping it.
    setTimeout(poll, POLL_MS)
  }
}

// ---------------------------------------------------------------------------------------
// Header

function render() {
  const data = state.data
  renderHeader(data)
  renderFreshness()
  renderGroups(data)
}

function renderHeader(data) {
  const counts = { OK: 0, WARN: 0, ERR: 0 }
  for (const group of data.groups) counts[group.status] = (counts[group.status] ?? 0) + 1
  for (const [status, testid] of [
    ['ERR', 'count-err'],
    ['WARN', 'count-warn'],
    ['OK', 'count-ok'],
  ]) {
    const pill = $(testid)
    pill.querySelector('b').textContent = String(counts[status])
    pill.classList.toggle('pill-zero', counts[status] === 0)
  }

  const dlq = $('dlq')
  const messages = data.dlq.messages
  $('dlq-count').textContent = formatCount(messages)
  $('dlq-topic').textContent = data.dlq.topic
  dlq.classList.toggle('dlq-alert', messages > 0)
  dlq.title = `${formatCount(messages)} message(s) in the dead-letter topic ${data.dlq.topic}`

  const worst = counts.ERR > 0 ? 'ERR' : counts.WARN > 0 ? 'WARN' : 'OK'
  const alarm = messages > 0 && worst === 'OK' ? 'DLQ' : worst
  document.title = `${alarm === 'OK' ? '' : `${alarm} · `}Consumer lag · Veridis`
  document.body.dataset.status = worst
}

/** "Updated 12:04:05 · 2 s ago" plus the stale marker; also runs every second on its own. */
function renderFreshness() {
  const data = state.data
  const label = $('last-updated')
  const stale = $('stale')
  let reason
  if (!data?.generatedAt) {
    label.textContent = data ? 'no data yet' : 'loading…'
    if (state.error) reason = `monitor unreachable: ${state.error}`
  } else {
    const age = Date.now() - data.generatedAt
    label.textContent = `updated ${timeFormat.format(new Date(data.generatedAt))} · ${formatAge(age)}`
    label.dataset.generatedAt = String(data.generatedAt)
    if (state.error) reason = `last poll failed: ${state.error}`
    else if (age > STALE_INTERVALS * data.pollIntervalMs) reason = `data is ${formatSeconds(age / 1000)} old`
  }
  stale.hidden = reason === undefined
  stale.title = reason ?? ''
  stale.textContent = reason === undefined ? '' : `stale — ${reason}`
  document.body.classList.toggle('is-stale', reason !== undefined)
}

// ---------------------------------------------------------------------------------------
// Group cards

function renderGroups(data) {
  const container = $('groups')
  const notice = $('notice')
  const groups = sortGroups(data.groups)

  if (!data.generatedAt && groups.length === 0) {
    notice.textContent = 'Waiting for the monitor’s first poll of the cluster…'
    notice.hidden = false
  } else if (groups.length === 0) {
    notice.textContent = 'No consumer groups yet. Cards appear here once a consumer has joined a group.'
    notice.hidden = false
  } else {
    notice.hidden = true
  }

  const seen = new Set()
  for (const group of groups) {
    seen.add(group.group)
    let card = state.cards.get(group.group)
    if (!card) {
      card = createCard(group.group)
      state.cards.set(group.group, card)
    }
    // append() moves an existing node, which keeps the cards in sorted order.
    container.append(card.element)
    updateCard(card, group)
  }
  for (const [name, card] of state.cards) {
    if (seen.has(name)) continue
    for (const chart of card.charts) chart.destroy()
    card.resize.disconnect()
    card.element.remove()
    state.cards.delete(name)
  }
}

function createCard(name) {
  const parts = {
    status: h('span', { class: 'badge', 'data-testid': 'group-status' }),
    kafkaState: h('span', { class: 'kafka-state', 'data-testid': 'group-state' }),
    members: h('span', { 'data-testid': 'group-members' }),
    error: h('p', { class: 'group-error', 'data-testid': 'group-error', hidden: '' }),
    lag: h('span', { class: 'metric-value', 'data-testid': 'group-lag' }),
    lagSeconds: h('span', { class: 'metric-value', 'data-testid': 'group-lag-seconds' }),
    topics: h('ul', { class: 'topics', 'data-testid': 'group-topics' }),
    lagChart: h('div', { class: 'chart', 'data-testid': 'lag-chart' }),
    lagSecondsChart: h('div', { class: 'chart', 'data-testid': 'lag-seconds-chart' }),
    partitionsSummary: h('span'),
    partitionRows: h('tbody'),
  }
  const element = h(
    'article',
    { class: 'card', 'data-testid': 'group-card', 'data-group': name },
    h('header', { class: 'card-head' }, h('h2', { class: 'group-name', title: name }, name), parts.status),
    h('div', { class: 'card-meta' }, parts.kafkaState, h('span', { class: 'dot' }, '·'), parts.members),
    parts.error,
    h(
      'div',
      { class: 'metrics' },
      h('div', { class: 'metric' }, h('span', { class: 'metric-label' }, 'Total lag'), parts.lag),
      h('div', { class: 'metric' }, h('span', { class: 'metric-label' }, 'Max lag'), parts.lagSeconds),
      parts.topics,
    ),
    h(
      'div',
      { class: 'charts' },
      h('figure', {}, h('figcaption', {}, 'Lag (messages)'), parts.lagChart),
      h('figure', {}, h('figcaption', {}, 'Lag (seconds)'), parts.lagSecondsChart),
    ),
    h(
      'details',
      { class: 'partitions', 'data-testid': 'partitions' },
      h('summary', {}, parts.partitionsSummary),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { 'data-testid': 'partition-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, 'Topic'),
              h('th', { class: 'num' }, 'Partition'),
              h('th', { class: 'num' }, 'Committed'),
              h('th', { class: 'num' }, 'Latest'),
              h('th', { class: 'num' }, 'Lag'),
              h('th', { class: 'num' }, 'Lag s'),
              h('th', {}, 'Status'),
            ),
          ),
          parts.partitionRows,
        ),
      ),
    ),
  )
  const charts = []
  const card = { element, parts, charts, resize: new ResizeObserver(() => resizeCharts(card)) }
  card.resize.observe(parts.lagChart)
  return card
}

function updateCard(card, group) {
  const { element, parts } = card
  element.dataset.status = group.status
  element.dataset.worstPartitionStatus = group.worstPartitionStatus

  parts.status.className = `badge badge-${group.status}`
  // ERR · STALL says why; WARN · WARN would say nothing twice.
  parts.status.textContent =
    group.worstPartitionStatus === 'OK' || group.worstPartitionStatus === group.status
      ? group.status
      : `${group.status} · ${group.worstPartitionStatus}`
  parts.status.title = `group ${group.status}, worst partition ${group.worstPartitionStatus}`

  parts.kafkaState.textContent = group.state
  parts.kafkaState.className = `kafka-state${group.state === 'Stable' ? '' : ' kafka-state-unusual'}`
  parts.members.textContent = `${group.members} member${group.members === 1 ? '' : 's'}`
  parts.error.hidden = !group.error
  parts.error.textContent = group.error ?? ''

  parts.lag.textContent = formatCount(group.totalLag)
  parts.lag.title = `${formatCount(group.totalLag)} messages behind`
  parts.lagSeconds.textContent = formatSeconds(group.maxLagSeconds)
  parts.lagSeconds.title = `${group.maxLagSeconds} s`

  parts.topics.replaceChildren(
    ...group.topics.map((topic) =>
      h(
        'li',
        { class: topic.lag > 0 ? 'topic topic-lagging' : 'topic', title: topic.topic },
        h('span', { class: 'topic-name' }, topic.topic),
        h(
          'span',
          { class: 'topic-lag' },
          `${formatCount(topic.lag)} · ${formatSeconds(topic.maxLagSeconds)}`,
        ),
      ),
    ),
  )

  updateCharts(card, group.history)
  updatePartitions(card, group.partitions)
}

function updatePartitions(card, partitions) {
  const { parts } = card
  const rows = [...partitions].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
  const notOk = rows.filter((row) => row.status !== 'OK').length
  parts.partitionsSummary.textContent = `Partitions (${rows.length})${notOk ? ` · ${notOk} not OK` : ''}`
  parts.partitionsSummary.className = notOk ? 'summary-alert' : ''
  parts.partitionRows.replaceChildren(
    ...rows.map((row) =>
      h(
        'tr',
        { class: row.status === 'OK' ? '' : 'row-alert', 'data-status': row.status },
        h('td', { class: 'topic-cell', title: row.topic }, row.topic),
        h('td', { class: 'num' }, String(row.partition)),
        h('td', { class: 'num mono' }, row.committedOffset ?? '—'),
        h('td', { class: 'num mono' }, row.latestOffset),
        h('td', { class: 'num' }, formatCount(row.lag)),
        h('td', { class: 'num' }, formatSeconds(row.lagSeconds)),
        h('td', {}, h('span', { class: `tag tag-${row.status}` }, row.status)),
      ),
    ),
  )
}

// ---------------------------------------------------------------------------------------
// Charts (uPlot, loaded by a classic script before this module runs)

const clockFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' })

/** 24-hour clock labels, with seconds only when the ticks are less than a minute apart. */
function formatClockSplits(splits) {
  const step = splits.length > 1 ? splits[1] - splits[0] : 60
  const format = step < 60 ? timeFormat : clockFormat
  return splits.map((at) => format.format(new Date(at * 1000)))
}

/** Axis steps for seconds that read as durations: 5 s, 30 s, 2 min, 1 h … */
const SECOND_STEPS = [
  0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400,
  172800, 604800,
]

function chartOptions(width, color, format, incrs) {
  return {
    width,
    height: CHART_HEIGHT,
    legend: { show: false },
    cursor: { points: { size: 6 }, drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    series: [
      {},
      {
        stroke: color,
        width: 1.5,
        fill: `${color}1f`,
        points: { show: false },
        value: (_u, value) => (value === null ? '–' : format(value)),
      },
    ],
    axes: [
      {
        stroke: '#6b7280',
        font: '10px system-ui, sans-serif',
        size: 20,
        space: 56,
        grid: { stroke: '#eef0f3', width: 1 },
        ticks: { show: false },
        // uPlot's default labels add a second line with the date, which a small chart has no room for.
        values: (_u, splits) => formatClockSplits(splits),
      },
      {
        stroke: '#6b7280',
        font: '10px system-ui, sans-serif',
        size: 40,
        grid: { stroke: '#eef0f3', width: 1 },
        ticks: { show: false },
        values: (_u, splits) => splits.map(format),
        ...(incrs ? { incrs } : {}),
      },
    ],
  }
}

function formatAxisSeconds(value) {
  if (value === 0) return '0'
  if (value < 60) return `${Number(value.toFixed(1))}s`
  if (value < 3600) return `${Number((value / 60).toFixed(1))}min`
  if (value < 86400) return `${Number((value / 3600).toFixed(1))}h`
  return `${Number((value / 86400).toFixed(1))}d`
}

function chartWidth(container) {
  return Math.max(120, Math.floor(container.clientWidth))
}

function updateCharts(card, history) {
  const uPlot = globalThis.uPlot
  if (!uPlot) return
  const times = history.map((point) => point.at / 1000)
  const lag = [times, history.map((point) => point.totalLag)]
  const lagSeconds = [times, history.map((point) => point.maxLagSeconds)]
  const { parts, charts } = card
  if (charts.length === 0) {
    charts.push(
      new uPlot(
        chartOptions(chartWidth(parts.lagChart), COLORS.lag, (v) => compactFormat.format(v)),
        lag,
        parts.lagChart,
      ),
      new uPlot(
        chartOptions(chartWidth(parts.lagSecondsChart), COLORS.lagSeconds, formatAxisSeconds, SECOND_STEPS),
        lagSeconds,
        parts.lagSecondsChart,
      ),
    )
  } else {
    charts[0].setData(lag)
    charts[1].setData(lagSeconds)
  }
  parts.lagChart.dataset.points = String(times.length)
  parts.lagSecondsChart.dataset.points = String(times.length)
}

function resizeCharts(card) {
  const [lag, lagSeconds] = card.charts
  if (!lag || !lagSeconds) return
  const width = chartWidth(card.parts.lagChart)
  if (lag.width !== width) lag.setSize({ width, height: CHART_HEIGHT })
  const secondsWidth = chartWidth(card.parts.lagSecondsChart)
  if (lagSeconds.width !== secondsWidth) lagSeconds.setSize({ width: secondsWidth, height: CHART_HEIGHT })
}

// ---------------------------------------------------------------------------------------

poll()
// Ages and the stale marker move on between polls too (and when the monitor is away).
setInterval(renderFreshness, 1000)
