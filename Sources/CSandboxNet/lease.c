/* Names, IPv4 text and the lease database format. Pure functions: the fuzzer
 * and the Swift tests call them directly. Everything is exact-match: a lease
 * line either has exactly the six well-formed fields or the file is refused
 * (CVE-2026-39402: a lenient lease parser let one user's entry be read as
 * another's). */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sbxnet_set_error(struct sbxnet_error *err, int line, const char *fmt, ...) {
    if (!err) return;
    err->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

int sbxnet_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out) {
    if (len == 0 || len > 20) return -1;
    if (len > 1 && s[0] == '0') return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (v > max) return -1;
    *out = v;
    return 0;
}

int sbxnet_next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *linelen) {
    if (*pos >= len) return 0;
    const char *start = buf + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - start) : len - *pos;
    *line = start;
    *linelen = n;
    *pos += n + (nl ? 1 : 0);
    return 1;
}

int sbxnet_valid_ifname(const char *s) {
    if (!s) return 0;
    size_t n = strnlen(s, SBXNET_IFNAMSIZ);
    if (n == 0 || n >= SBXNET_IFNAMSIZ) return 0;
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '.';
        if (!ok) return 0;
    }
    return 1;
}

int sbxnet_parse_ipv4(const char *s, size_t len, uint32_t *addr_be) {
    uint32_t host = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9') i++;
        uint64_t v;
        if (sbxnet_parse_uint(s + start, i - start, 255, &v) != 0) return -1;
        host = (host << 8) | (uint32_t)v;
        if (part < 3) {
            if (i >= len || s[i] != '.') return -1;
            i++;
        }
    }
    if (i != len) return -1;
    *addr_be = __builtin_bswap32(host);
    return 0;
}

void sbxnet_format_ipv4(uint32_t addr_be, char *out) {
    uint32_t h = __builtin_bswap32(addr_be);
    snprintf(out, 16, "%u.%u.%u.%u", h >> 24, (h >> 16) & 255, (h >> 8) & 255, h & 255);
}

int sbxnet_host_ifname(uint32_t uid, unsigned slot, char out[SBXNET_IFNAMSIZ]) {
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    char rev[16];
    int n = 0;
    do {
        rev[n++] = digits[slot % 36];
        slot /= 36;
    } while (slot && n < (int)sizeof rev);
    char buf[40];
    int len = snprintf(buf, sizeof buf, "sbx%ua", uid);
    if (len < 0 || len + n >= SBXNET_IFNAMSIZ) return -1;
    for (int i = 0; i < n; i++) buf[len + i] = rev[n - 1 - i];
    buf[len + n] = 0;
    memcpy(out, buf, (size_t)len + (size_t)n + 1);
    return 0;
}

/* Copies field [s, s+len) into a NUL-terminated interface name, validating it. */
static int take_ifname(const char *s, size_t len, char out[SBXNET_IFNAMSIZ]) {
    if (len == 0 || len >= SBXNET_IFNAMSIZ) return -1;
    memcpy(out, s, len);
    out[len] = 0;
    return sbxnet_valid_ifname(out) ? 0 : -1;
}

int sbxnet_leases_parse(const char *buf, size_t len, struct sbxnet_lease *out, size_t max,
                        size_t *n, struct sbxnet_error *err) {
    *n = 0;
    if (len > SBXNET_LEASES_MAX_BYTES) {
        sbxnet_set_error(err, 0, "lease file is larger than %d bytes", SBXNET_LEASES_MAX_BYTES);
        return -1;
    }
    if (memchr(buf, 0, len)) {
        sbxnet_set_error(err, 0, "lease file contains a NUL byte");
        return -1;
    }
    if (len > 0 && buf[len - 1] != '\n') {
        sbxnet_set_error(err, 0, "lease file does not end with a newline (truncated?)");
        return -1;
    }
    size_t pos = 0, count = 0;
    const char *line;
    size_t linelen;
    int lineno = 0;
    while (sbxnet_next_line(buf, len, &pos, &line, &linelen)) {
        lineno++;
        if (linelen > SBXNET_LINE_MAX) {
            sbxnet_set_error(err, lineno, "line longer than %d bytes", SBXNET_LINE_MAX);
            return -1;
        }
        /* Exactly six fields separated by single spaces. */
        const char *f[6];
        size_t fl[6];
        size_t nf = 0, start = 0;
        for (size_t i = 0; i <= linelen; i++) {
            if (i == linelen || line[i] == ' ') {
                if (nf == 6) { nf = 7; break; }
                f[nf] = line + start;
                fl[nf] = i - start;
                nf++;
                start = i + 1;
            }
        }
        if (nf != 6) {
            sbxnet_set_error(err, lineno, "expected 6 fields: UID BRIDGE HOSTIF IFINDEX ADDRESS NETNS");
            return -1;
        }
        if (count == max) {
            sbxnet_set_error(err, lineno, "more than %zu leases", max);
            return -1;
        }
        struct sbxnet_lease l;
        memset(&l, 0, sizeof l);
        uint64_t v;
        if (sbxnet_parse_uint(f[0], fl[0], UINT32_MAX - 1, &v) != 0) {
            sbxnet_set_error(err, lineno, "bad uid");
            return -1;
        }
        l.uid = (uint32_t)v;
        if (take_ifname(f[1], fl[1], l.bridge) != 0) {
            sbxnet_set_error(err, lineno, "bad bridge name");
            return -1;
        }
        if (take_ifname(f[2], fl[2], l.host) != 0) {
            sbxnet_set_error(err, lineno, "bad host interface name");
            return -1;
        }
        if (sbxnet_parse_uint(f[3], fl[3], INT32_MAX, &v) != 0) {
            sbxnet_set_error(err, lineno, "bad interface index");
            return -1;
        }
        l.ifindex = (int32_t)v;
        if (sbxnet_parse_ipv4(f[4], fl[4], &l.address_be) != 0) {
            sbxnet_set_error(err, lineno, "bad address");
            return -1;
        }
        if (sbxnet_parse_uint(f[5], fl[5], UINT64_MAX, &l.netns_ino) != 0) {
            sbxnet_set_error(err, lineno, "bad namespace inode");
            return -1;
        }
        /* A host name is bound to its owner: it must be sbx<uid>a…, so an entry
         * can never claim another user's interface. */
        char prefix[24];
        int pl = snprintf(prefix, sizeof prefix, "sbx%ua", l.uid);
        if (pl < 0 || strncmp(l.host, prefix, (size_t)pl) != 0 || l.host[pl] == 0) {
            sbxnet_set_error(err, lineno, "host interface %s is not named for uid %u", l.host, l.uid);
            return -1;
        }
        for (size_t i = 0; i < count; i++) {
            if (strcmp(out[i].host, l.host) == 0 || out[i].address_be == l.address_be) {
                sbxnet_set_error(err, lineno, "duplicate interface or address");
                return -1;
            }
        }
        out[count++] = l;
    }
    *n = count;
    return 0;
}

size_t sbxnet_lease_format(const struct sbxnet_lease *l, char *out, size_t cap) {
    char addr[16];
    sbxnet_format_ipv4(l->address_be, addr);
    int n = snprintf(out, cap, "%u %s %s %d %s %llu\n", l->uid, l->bridge, l->host, (int)l->ifindex,
                     addr, (unsigned long long)l->netns_ino);
    if (n < 0 || (size_t)n >= cap) return 0;
    return (size_t)n;
}
