/* x86-64-v2 check program: built with gcc -O3 -march=x86-64-v2 -static by scripts/test-x86-64-v2, run
 * on the host and in a SwiftVMX guest; the two outputs must be identical. Each line is a test name and a
 * 64-bit FNV-1a hash of its results. It exercises SSE3, SSSE3, SSE4.1 and SSE4.2 through intrinsics,
 * auto-vectorized loops (PMULLD, PMINSD, PMOVZX...), and glibc's CPUID-selected string and math routines
 * (strcspn/strspn/strpbrk use PCMPISTRI, floor/ceil/rint ROUNDSD when SSE4.1 is reported). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <nmmintrin.h>
#include <smmintrin.h>
#include <tmmintrin.h>
#include <pmmintrin.h>

static uint64_t h;
static void mix(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= 0x100000001b3ull; }
}
static void begin(void) { h = 0xcbf29ce484222325ull; }
static void end(const char *name) { printf("%-12s %016llx\n", name, (unsigned long long)h); }

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }
static __m128i rv(void) { return _mm_set_epi64x((long long)rnd(), (long long)rnd()); }
static __m128 rps(void) {
    float f[4];
    for (int i = 0; i < 4; i++) f[i] = (float)((int64_t)(rnd() % 2000001) - 1000000) / (float)(1 + rnd() % 997);
    return _mm_loadu_ps(f);
}
static __m128d rpd(void) {
    double d[2];
    for (int i = 0; i < 2; i++) d[i] = (double)((int64_t)(rnd() % 2000000001) - 1000000000) / (double)(1 + rnd() % 99991);
    return _mm_loadu_pd(d);
}
#define MIXV(v) do { __typeof__(v) t_ = (v); mix(&t_, sizeof t_); } while (0)

int main(void) {
    begin();
    for (int i = 0; i < 2000; i++) {
        __m128 a = rps(), b = rps();
        __m128d c = rpd(), d = rpd();
        MIXV(_mm_addsub_ps(a, b)); MIXV(_mm_hadd_ps(a, b)); MIXV(_mm_hsub_ps(a, b));
        MIXV(_mm_addsub_pd(c, d)); MIXV(_mm_hadd_pd(c, d)); MIXV(_mm_hsub_pd(c, d));
        MIXV(_mm_movehdup_ps(a)); MIXV(_mm_moveldup_ps(b)); MIXV(_mm_movedup_pd(c));
    }
    end("sse3");

    begin();
    for (int i = 0; i < 2000; i++) {
        __m128i a = rv(), b = rv();
        MIXV(_mm_shuffle_epi8(a, b)); MIXV(_mm_hadd_epi16(a, b)); MIXV(_mm_hadds_epi16(a, b)); MIXV(_mm_hsub_epi32(a, b));
        MIXV(_mm_hsubs_epi16(a, b)); MIXV(_mm_maddubs_epi16(a, b)); MIXV(_mm_mulhrs_epi16(a, b));
        MIXV(_mm_sign_epi8(a, b)); MIXV(_mm_sign_epi16(a, b)); MIXV(_mm_sign_epi32(a, b));
        MIXV(_mm_abs_epi8(a)); MIXV(_mm_abs_epi16(b)); MIXV(_mm_abs_epi32(a));
        MIXV(_mm_alignr_epi8(a, b, 3)); MIXV(_mm_alignr_epi8(a, b, 13));
    }
    end("ssse3");

    begin();
    for (int i = 0; i < 2000; i++) {
        __m128i a = rv(), b = rv(), m = rv();
        MIXV(_mm_mullo_epi32(a, b)); MIXV(_mm_mul_epi32(a, b)); MIXV(_mm_min_epi8(a, b)); MIXV(_mm_max_epi32(a, b));
        MIXV(_mm_min_epu16(a, b)); MIXV(_mm_max_epu32(a, b)); MIXV(_mm_cvtepi8_epi32(a)); MIXV(_mm_cvtepu16_epi64(b));
        MIXV(_mm_cvtepi32_epi64(a)); MIXV(_mm_cvtepu8_epi16(b)); MIXV(_mm_blendv_epi8(a, b, m)); MIXV(_mm_blend_epi16(a, b, 0x5A));
        MIXV(_mm_packus_epi32(a, b)); MIXV(_mm_minpos_epu16(a)); MIXV(_mm_mpsadbw_epu8(a, b, 5)); MIXV(_mm_cmpeq_epi64(a, b));
        MIXV(_mm_testz_si128(a, b)); MIXV(_mm_testc_si128(a, m)); MIXV(_mm_testnzc_si128(a, b));
        MIXV(_mm_extract_epi8(a, 7)); MIXV(_mm_extract_epi32(b, 2)); MIXV(_mm_extract_epi64(a, 1));
        MIXV(_mm_insert_epi8(a, (int)rnd(), 9)); MIXV(_mm_insert_epi32(b, (int)rnd(), 1)); MIXV(_mm_insert_epi64(a, (long long)rnd(), 0));
        __m128 x = rps(), y = rps();
        __m128d u = rpd(), v = rpd();
        MIXV(_mm_dp_ps(x, y, 0xF1)); MIXV(_mm_dp_ps(x, y, 0x3C)); MIXV(_mm_dp_pd(u, v, 0x31));
        MIXV(_mm_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)); MIXV(_mm_round_ps(y, _MM_FROUND_TO_NEG_INF));
        MIXV(_mm_round_pd(u, _MM_FROUND_TO_POS_INF)); MIXV(_mm_round_pd(v, _MM_FROUND_TO_ZERO));
        MIXV(_mm_blendv_ps(x, y, _mm_castsi128_ps(m))); MIXV(_mm_blend_pd(u, v, 1)); MIXV(_mm_insert_ps(x, y, 0x9A));
        MIXV(_mm_extract_ps(x, 2));
    }
    end("sse4.1");

    begin();
    {
        uint32_t c = 0xFFFFFFFF;
        for (int i = 0; i < 4000; i++) {
            uint64_t r = rnd();
            c = _mm_crc32_u8(c, (uint8_t)r); c = _mm_crc32_u16(c, (uint16_t)r); c = _mm_crc32_u32(c, (uint32_t)r);
            c = (uint32_t)_mm_crc32_u64(c, r);
        }
        MIXV(c);
    }
    for (int i = 0; i < 3000; i++) {
        __m128i a = rv(), b = rv();
        if (i % 3 == 0) b = _mm_or_si128(b, _mm_and_si128(a, _mm_set1_epi16(0x00FF)));
        int la = (int)(rnd() % 20) - 2, lb = (int)(rnd() % 20) - 2;
        MIXV(_mm_cmpgt_epi64(a, b));
        MIXV(_mm_cmpistri(a, b, _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ANY));
        MIXV(_mm_cmpistrm(a, b, _SIDD_UBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_UNIT_MASK));
        MIXV(_mm_cmpestri(a, la, b, lb, _SIDD_SWORD_OPS | _SIDD_CMP_EQUAL_ORDERED | _SIDD_MOST_SIGNIFICANT));
        MIXV(_mm_cmpestrm(a, la, b, lb, _SIDD_UWORD_OPS | _SIDD_CMP_EQUAL_EACH | _SIDD_MASKED_NEGATIVE_POLARITY));
        MIXV(_mm_cmpestrc(a, la, b, lb, _SIDD_SBYTE_OPS | _SIDD_CMP_RANGES));
        MIXV(_mm_cmpistrz(a, b, _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ORDERED));
    }
    end("sse4.2");

    /* Auto-vectorized loops and glibc's CPUID-selected routines. */
    begin();
    {
        static int32_t p[1024], q[1024], r[1024];
        static uint8_t s8[1024];
        static char text[4096];
        for (int i = 0; i < 1024; i++) { p[i] = (int32_t)rnd(); q[i] = (int32_t)rnd(); s8[i] = (uint8_t)rnd(); }
        for (int i = 0; i < 1024; i++) r[i] = p[i] * q[i] + (p[i] < q[i] ? p[i] : q[i]) + s8[i];
        mix(r, sizeof r);
        int64_t sum = 0;
        for (int i = 0; i < 1024; i++) sum += (int64_t)s8[i] * p[i];
        MIXV(sum);
        for (int i = 0; i < 4095; i++) text[i] = "abcdefghij ,.;XYZ0123456789"[rnd() % 27];
        text[4095] = 0;
        for (int i = 0; i < 200; i++) {
            const char *t = text + rnd() % 4000;
            size_t n = strcspn(t, ",.;") + 7 * strspn(t, "abcdefghij") + 131 * (size_t)(strpbrk(t, "XYZ") - t);
            MIXV(n);
            MIXV(strlen(t)); const char *f = strstr(t, "ab"); MIXV(f ? f - t : -1);
            MIXV(memcmp(t, t + 1, 64) < 0);
        }
        for (int i = 0; i < 500; i++) {
            double x = ((double)(int64_t)rnd()) / 1e12;
            double y[5] = { floor(x), ceil(x), rint(x), trunc(x), nearbyint(-x) };
            float xf = (float)x;
            float yf[3] = { floorf(xf), ceilf(xf), rintf(xf) };
            mix(y, sizeof y); mix(yf, sizeof yf);
        }
        char buf[64];
        snprintf(buf, sizeof buf, "%.17g %.9g", sqrt(2.0) * 1e100, (double)(1.0f / 3.0f));
        mix(buf, strlen(buf));
    }
    end("compiler+libc");
    return 0;
}
