/* b64url.c - unpadded, strict base64url for JOSE compact serialisation. */
#include "b64url.h"
#include "err.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define B64_AVX2 1
#endif

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* PAIRS[v] is the two characters encoding the 12-bit value v: encoding
 * looks up 12 bits at a time, half the work of one character at a time,
 * and reads 6 input bytes (8 characters) per step. */
static char PAIRS[4096][2];
static pthread_once_t pairs_once = PTHREAD_ONCE_INIT;
static bool have_avx2; /* set once with PAIRS */

static void pairs_init(void)
{
    for (int v = 0; v < 4096; v++) {
        PAIRS[v][0] = ALPHABET[v >> 6];
        PAIRS[v][1] = ALPHABET[v & 63];
    }
#ifdef B64_AVX2
    have_avx2 = __builtin_cpu_supports("avx2");
#endif
}

#ifdef B64_AVX2
/* encode_avx2 encodes in[] 24 bytes (32 characters) a step while 28
 * bytes can be read (each step reads 16 bytes at in + 12) and returns the
 * bytes it encoded. Each 128-bit lane turns 12 bytes into 16 characters:
 * a byte shuffle puts each group of 3 bytes b0 b1 b2 into a 32-bit word as
 * b1 b0 b2 b1, two multiplies move its four 6-bit values to one byte each,
 * and a table indexed by the value's range (A-Z, a-z, 0-9, '-', '_') adds
 * the distance to its character. */
__attribute__((target("avx2"))) static size_t encode_avx2(const uint8_t *in, size_t len, char *out)
{
    const __m256i shuf = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10, 1, 0,
                                          2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
    const __m256i shift =
        _mm256_setr_epi8('a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
                         '0' - 52, '0' - 52, '0' - 52, '0' - 52, '-' - 62, '_' - 63, 'A', 0, 0,
                         'a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
                         '0' - 52, '0' - 52, '0' - 52, '0' - 52, '-' - 62, '_' - 63, 'A', 0, 0);
    size_t i = 0;
    for (; i + 28 <= len; i += 24, out += 32) {
        __m256i v = _mm256_setr_m128i(_mm_loadu_si128((const __m128i *)(in + i)),
                                      _mm_loadu_si128((const __m128i *)(in + i + 12)));
        v = _mm256_shuffle_epi8(v, shuf);
        /* b0 b1 as the low 16 bits, b1 b2 as the high: values 0 and 2 to
         * bytes 0 and 2, values 1 and 3 to bytes 1 and 3 */
        __m256i a = _mm256_mulhi_epu16(_mm256_and_si256(v, _mm256_set1_epi32(0x0fc0fc00)),
                                       _mm256_set1_epi32(0x04000040));
        __m256i b = _mm256_mullo_epi16(_mm256_and_si256(v, _mm256_set1_epi32(0x003f03f0)),
                                       _mm256_set1_epi32(0x01000010));
        __m256i idx = _mm256_or_si256(a, b);
        /* range: 13 for 0-25, 0 for 26-51, 1-10 for 52-61, 11 and 12 */
        __m256i r = _mm256_subs_epu8(idx, _mm256_set1_epi8(51));
        __m256i low = _mm256_cmpgt_epi8(_mm256_set1_epi8(26), idx);
        r = _mm256_or_si256(r, _mm256_and_si256(low, _mm256_set1_epi8(13)));
        idx = _mm256_add_epi8(idx, _mm256_shuffle_epi8(shift, r));
        _mm256_storeu_si256((__m256i *)out, idx);
    }
    return i;
}
#endif

/* 0..63 for alphabet characters, 0xff for everything else. */
static const uint8_t DECODE[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,  ['H'] = 8,
    ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64,
};
/* The table above stores value+1 so that zero means "not in the alphabet". */

/* put_pair writes the two characters of 12-bit value v at out. */
static inline void put_pair(char *out, uint32_t v)
{
    memcpy(out, PAIRS[v], 2);
}

/* load48 reads 6 bytes big-endian from p, whose 2 following bytes must be
 * readable too (they are read and ignored). */
static inline uint64_t load48(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v >> 16;
}

int b64url_encode(const uint8_t *restrict in, size_t len, char *restrict out, size_t cap,
                  size_t *out_len)
{
    size_t need = B64URL_ENCODED_LEN(len);
    if (cap < need + 1) {
        if (cap > 0)
            out[0] = '\0';
        return RK_ETOOBIG;
    }
    pthread_once(&pairs_once, pairs_init);
    size_t i = 0, o = 0;
#ifdef B64_AVX2
    if (have_avx2) {
        i = encode_avx2(in, len, out);
        o = i / 3 * 4;
    }
#endif
    /* 6 bytes (8 characters) per step while 8 bytes can be read */
    for (; i + 8 <= len; i += 6, o += 8) {
        uint64_t v = load48(in + i);
        put_pair(out + o, (uint32_t)(v >> 36));
        put_pair(out + o + 2, (uint32_t)(v >> 24) & 0xfff);
        put_pair(out + o + 4, (uint32_t)(v >> 12) & 0xfff);
        put_pair(out + o + 6, (uint32_t)v & 0xfff);
    }
    for (; i + 3 <= len; i += 3, o += 4) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        put_pair(out + o, v >> 12);
        put_pair(out + o + 2, v & 0xfff);
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = ALPHABET[v >> 18];
        out[o++] = ALPHABET[(v >> 12) & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = ALPHABET[v >> 18];
        out[o++] = ALPHABET[(v >> 12) & 63];
        out[o++] = ALPHABET[(v >> 6) & 63];
    }
    out[o] = '\0';
    *out_len = o;
    return RK_OK;
}

int b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    if (len % 4 == 1)
        return RK_EINVAL;
    size_t need = (len / 4) * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (need > cap)
        return RK_ETOOBIG;
    size_t i = 0, o = 0;
    uint32_t v[4];
    for (; i + 4 <= len; i += 4) {
        for (int k = 0; k < 4; k++) {
            uint8_t d = DECODE[(unsigned char)in[i + k]];
            if (d == 0)
                return RK_EINVAL;
            v[k] = d - 1u;
        }
        uint32_t w = v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3];
        out[o++] = (uint8_t)(w >> 16);
        out[o++] = (uint8_t)(w >> 8);
        out[o++] = (uint8_t)w;
    }
    size_t rest = len - i;
    if (rest) {
        for (size_t k = 0; k < rest; k++) {
            uint8_t d = DECODE[(unsigned char)in[i + k]];
            if (d == 0)
                return RK_EINVAL;
            v[k] = d - 1u;
        }
        if (rest == 2) {
            if (v[1] & 0x0f) /* non-canonical: unused bits set */
                return RK_EINVAL;
            out[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
        } else { /* rest == 3 */
            if (v[2] & 0x03)
                return RK_EINVAL;
            out[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
            out[o++] = (uint8_t)((v[1] & 0x0f) << 4 | v[2] >> 2);
        }
    }
    *out_len = o;
    return RK_OK;
}
