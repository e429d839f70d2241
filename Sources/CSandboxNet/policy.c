/* /etc/sandbox/usernet: `USER|@GROUP veth BRIDGE COUNT` per line, as
 * lxc-usernet. The file is the whole policy: nothing the caller passes can
 * widen it. Pure function of the bytes and the caller's identity. */
#include "internal.h"

#include <string.h>

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static int token_eq(const char *t, size_t tl, const char *s) {
    return s && strlen(s) == tl && memcmp(t, s, tl) == 0;
}

static int matches(const char *who_tok, size_t wl, const struct sbxnet_identity *who) {
    if (wl > 0 && who_tok[0] == '@') {
        for (size_t i = 0; i < who->ngroups; i++)
            if (token_eq(who_tok + 1, wl - 1, who->groups[i])) return 1;
        return 0;
    }
    return token_eq(who_tok, wl, who->user);
}

int sbxnet_usernet_parse(const char *buf, size_t len, const struct sbxnet_identity *who,
                         struct sbxnet_grant *grants, size_t max_grants, size_t *ngrants,
                         struct sbxnet_error *err) {
    *ngrants = 0;
    if (len > SBXNET_POLICY_MAX) {
        sbxnet_set_error(err, 0, "file is larger than %d bytes", SBXNET_POLICY_MAX);
        return -1;
    }
    if (memchr(buf, 0, len)) {
        sbxnet_set_error(err, 0, "file contains a NUL byte");
        return -1;
    }
    size_t n = 0, pos = 0;
    const char *line;
    size_t linelen;
    int lineno = 0;
    while (sbxnet_next_line(buf, len, &pos, &line, &linelen)) {
        lineno++;
        if (linelen > SBXNET_LINE_MAX) {
            sbxnet_set_error(err, lineno, "line longer than %d bytes", SBXNET_LINE_MAX);
            goto refuse;
        }
        const char *tok[5];
        size_t tl[5];
        size_t nt = 0, i = 0;
        while (i < linelen) {
            while (i < linelen && is_space(line[i])) i++;
            if (i >= linelen || line[i] == '#') break;
            size_t start = i;
            while (i < linelen && !is_space(line[i])) i++;
            if (nt == 5) { nt = 6; break; }
            tok[nt] = line + start;
            tl[nt] = i - start;
            nt++;
        }
        if (nt == 0) continue; /* blank or comment */
        if (nt != 4) {
            sbxnet_set_error(err, lineno, "expected 4 fields `USER|@GROUP veth BRIDGE COUNT`, found %s",
                             nt > 4 ? "more" : "fewer");
            goto refuse;
        }
        if (tl[0] == 0 || tl[0] > SBXNET_NAME_MAX || (tok[0][0] == '@' && tl[0] == 1)) {
            sbxnet_set_error(err, lineno, "bad user or @group name");
            goto refuse;
        }
        if (!token_eq(tok[1], tl[1], "veth")) {
            sbxnet_set_error(err, lineno, "only the `veth` type is supported");
            goto refuse;
        }
        char bridge[SBXNET_IFNAMSIZ];
        if (tl[2] >= SBXNET_IFNAMSIZ) {
            sbxnet_set_error(err, lineno, "bridge name longer than 15 characters");
            goto refuse;
        }
        memcpy(bridge, tok[2], tl[2]);
        bridge[tl[2]] = 0;
        if (!sbxnet_valid_ifname(bridge)) {
            sbxnet_set_error(err, lineno, "bad bridge name (use 1-15 of A-Z a-z 0-9 _ . -)");
            goto refuse;
        }
        uint64_t count;
        if (sbxnet_parse_uint(tok[3], tl[3], SBXNET_MAX_COUNT, &count) != 0) {
            sbxnet_set_error(err, lineno, "COUNT must be a whole number from 0 to %d", SBXNET_MAX_COUNT);
            goto refuse;
        }
        if (!matches(tok[0], tl[0], who)) continue;
        size_t g = 0;
        while (g < n && strcmp(grants[g].bridge, bridge) != 0) g++;
        if (g == n) {
            if (n == max_grants) {
                sbxnet_set_error(err, lineno, "more than %zu bridges granted", max_grants);
                goto refuse;
            }
            memcpy(grants[n].bridge, bridge, sizeof bridge);
            grants[n].count = 0;
            n++;
        }
        unsigned total = grants[g].count + (unsigned)count;
        grants[g].count = total > SBXNET_MAX_COUNT ? SBXNET_MAX_COUNT : total;
    }
    *ngrants = n;
    return 0;
refuse:
    *ngrants = 0;
    return -1;
}

unsigned sbxnet_grant_for(const struct sbxnet_grant *grants, size_t n, const char *bridge) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(grants[i].bridge, bridge) == 0) return grants[i].count;
    return 0;
}
