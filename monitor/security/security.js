/**
 * The security page: polls the monitor's /api/v1/security/overview and renders the bridge
 * guard's incidents, the newest reserves check per token and guardian participation. Plain
 * browser module, no build step. Every value from the API goes in through textContent: scopes,
 * summaries and operator names come from chains and configuration and are not trusted as HTML.
 */

const POLL_MS = 5000
const FETCH_TIMEOUT_MS = 5000
const STALE_MS = 3 * POLL_MS
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW']

const numberFormat = new Intl.NumberFormat('en-US')
const timeFormat = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
})

const state = { data: undefined, error: undefined }

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`)

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) element.setAttribute(name, String(value))
  }
  for (const child of children) element.append(child)
  return element
}

const formatTime = (ms) => (ms ? timeFormat.format(new Date(ms)) : '—')
/** Token amounts are integers beyond 2^53: formatted from their decimal string. */
const formatAmount = (text) => {
  try {
    return BigInt(text).toLocaleString('en-US')
  } catch {
    return text
  }
}
const formatPercent = (value) =>
  value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)} %`
const formatMs = (value) =>
  value === null || value === undefined
    ? '—'
    : value < 1000
      ? `${Math.round(value)} ms`
      : `${(value / 1000).toFixed(1)} s`

async function poll() {
  try {
    const response = await fetch('api/v1/security/overview', {
      cache: 'no-store',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    })
    const body = await response.json().catch(() => undefined)
    if (!response.ok)
      throw new Error(body?.reason ? `${body.error}: ${body.reason}` : `HTTP ${response.status}`)
    state.data = body
    state.error = undefined
    render(body)
  } catch (error) {
    state.error = error instanceof Error ? error.message : String(error)
  } finally {
    renderFreshness()
    setTimeout(poll, POLL_MS)
  }
}

function render(data) {
  for (const severity of SEVERITIES) {
    const pill = $(`open-${severity}`)
    const count = data.openBySeverity[severity] ?? 0
    pill.querySelector('b').textContent = String(count)
    pill.classList.toggle('pill-zero', count === 0)
  }
  const critical = (data.openBySeverity.CRITICAL ?? 0) + (data.openBySeverity.HIGH ?? 0)
  document.title = `${critical > 0 ? `${critical} open · ` : ''}Bridge security · Veridis`
  renderIncidents(data.incidents)
  renderReserves(data.reserves)
  renderGuardians(data.guardians)
}

function renderIncidents(incidents) {
  $('incidents-empty').hidden = incidents.length > 0
  $('incidents')
    .querySelector('tbody')
    .replaceChildren(
      ...incidents.map((incident) =>
        h(
          'tr',
          {
            'data-testid': 'incident',
            'data-alert-id': incident.alertId,
            'data-detection': incident.detection,
            'data-status': incident.status,
            'data-severity': incident.severity,
            'data-open': String(incident.open),
            title: `${incident.alertId} · revision ${incident.revision} · ${incident.scope}`,
          },
          h('td', {}, h('span', { class: `sev sev-${incident.severity}` }, incident.severity)),
          h('td', { class: 'mono' }, incident.detection),
          h('td', { 'data-testid': 'incident-status' }, incident.status),
          h(
            'td',
            { class: 'num', 'data-testid': 'incident-occurrences' },
            numberFormat.format(incident.occurrences),
          ),
          h('td', { class: 'num' }, numberFormat.format(incident.standing)),
          h('td', { class: 'summary-cell', 'data-testid': 'incident-summary' }, incident.summary),
          h('td', { class: 'mono' }, incident.chains.join(', ')),
          h('td', {}, formatTime(incident.firstAt)),
          h('td', {}, formatTime(incident.lastAt)),
        ),
      ),
    )
}

function renderReserves(reserves) {
  $('reserves-empty').hidden = reserves.length > 0
  $('reserves-table')
    .querySelector('tbody')
    .replaceChildren(
      ...reserves.map((reserve) =>
        h(
          'tr',
          { 'data-testid': 'reserve', 'data-bridge': reserve.bridgeId, 'data-token': reserve.token },
          h('td', { class: 'mono' }, reserve.bridgeId),
          h('td', { class: 'mono' }, reserve.token),
          h(
            'td',
            {
              class: `num${reserve.ratio !== null && reserve.ratio < 1 ? ' ratio-short' : ''}`,
              'data-testid': 'reserve-ratio',
            },
            reserve.ratio === null ? 'nothing bridged' : reserve.ratio.toFixed(4),
          ),
          h('td', { class: 'num mono' }, formatAmount(reserve.custody)),
          h('td', { class: 'num mono' }, formatAmount(reserve.wrappedSupply)),
          h('td', { class: 'num mono' }, formatAmount(reserve.inFlight)),
          h('td', { class: 'num mono', 'data-testid': 'reserve-shortfall' }, formatAmount(reserve.shortfall)),
          h('td', { class: 'mono' }, `${reserve.custodyChain} #${reserve.custodyBlock}`),
          h('td', {}, formatTime(reserve.checkedAt)),
        ),
      ),
    )
}

function renderGuardians(guardians) {
  $('guardians-empty').hidden = guardians.length > 0
  $('guardians-table')
    .querySelector('tbody')
    .replaceChildren(
      ...guardians.map((guardian) =>
        h(
          'tr',
          { 'data-testid': 'guardian', 'data-guardian': guardian.guardian, 'data-chain': guardian.chain },
          h('td', { class: 'mono' }, guardian.chain),
          h('td', { class: 'mono' }, guardian.gateway),
          h('td', { class: 'mono' }, guardian.guardian),
          h('td', {}, guardian.operator ?? '—'),
          h(
            'td',
            { class: 'num' },
            `${numberFormat.format(guardian.signed)} / ${numberFormat.format(guardian.eligible)}`,
          ),
          h(
            'td',
            { class: 'num', 'data-testid': 'guardian-participation' },
            formatPercent(guardian.participation),
          ),
          h('td', { class: 'num', 'data-testid': 'guardian-latency' }, formatMs(guardian.meanLatencyMs)),
          h('td', {}, formatTime(guardian.lastSignedAt)),
        ),
      ),
    )
}

function renderFreshness() {
  const label = $('last-updated')
  const stale = $('stale')
  let reason
  if (!state.data) {
    label.textContent = state.error ? 'no data' : 'loading…'
    if (state.error) reason = `unreachable: ${state.error}`
  } else {
    label.textContent = `updated ${timeFormat.format(new Date(state.data.generatedAt))}`
    label.dataset.generatedAt = String(state.data.generatedAt)
    if (state.error) reason = `last poll failed: ${state.error}`
    else if (Date.now() - state.data.generatedAt > STALE_MS) reason = 'data is old'
  }
  stale.hidden = reason === undefined
  stale.textContent = reason === undefined ? '' : `stale — ${reason}`
  document.body.classList.toggle('is-stale', reason !== undefined)
}

poll()
setInterval(renderFreshness, 1000)
