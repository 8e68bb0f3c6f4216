/*
 * LD_PRELOAD shim: a bind() to the wildcard address (0.0.0.0 or ::) binds to loopback
 * instead. solana-test-validator 3.1.12 binds its faucet to 0.0.0.0 whatever --bind-address
 * says (src/bin/solana-test-validator.rs: `SocketAddr::new(Ipv4Addr::UNSPECIFIED,
 * faucet_port)`), and has no flag to turn the faucet off; every other socket follows
 * --bind-address. With this preloaded, nothing the validator opens is reachable from
 * another machine. Built once by infra/stack/solana-validator.ts with the system C compiler.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
  static bind_fn real;
  if (!real) real = (bind_fn)dlsym(RTLD_NEXT, "bind");
  if (addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
    if (in->sin_addr.s_addr == htonl(INADDR_ANY)) {
      struct sockaddr_in copy = *in;
      copy.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      return real(fd, (const struct sockaddr *)&copy, sizeof copy);
    }
  }
  if (addr && addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
    if (memcmp(&in6->sin6_addr, &in6addr_any, sizeof in6addr_any) == 0) {
      struct sockaddr_in6 copy = *in6;
      copy.sin6_addr = in6addr_loopback;
      return real(fd, (const struct sockaddr *)&copy, sizeof copy);
    }
  }
  return real(fd, addr, len);
}
