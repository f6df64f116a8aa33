#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
// glibc spells the re-entrant resolver functions as macros (res_ninit -> __res_ninit); Swift cannot call
// function-like macro aliases, so these typed wrappers give them stable names.
static inline int policylist_res_ninit(res_state s) { return res_ninit(s); }
static inline void policylist_res_nclose(res_state s) { res_nclose(s); }
static inline int policylist_res_nmkquery(res_state s, int op, const char *dname, int cls, int type,
                                          unsigned char *buf, int buflen) {
    return res_nmkquery(s, op, dname, cls, type, NULL, 0, NULL, buf, buflen);
}
static inline int policylist_res_nsend(res_state s, const unsigned char *msg, int msglen, unsigned char *answer,
                                       int anslen) {
    return res_nsend(s, msg, msglen, answer, anslen);
}
