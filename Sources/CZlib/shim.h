#include <zlib.h>
// inflateInit2/deflateInit2 are macros; expose them as functions.
static inline int policylist_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
static inline int policylist_deflateInit2(z_streamp strm, int level, int windowBits) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
// The same with an explicit memLevel (1-9): small inputs need neither a 32 KiB window nor a 64 KiB hash table.
static inline int policylist_deflateInit2Sized(z_streamp strm, int level, int windowBits, int memLevel) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}
