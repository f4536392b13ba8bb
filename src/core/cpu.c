/* Runtime CPU feature detection with an environment override for tests. */
#include "core.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static sl_cpu_level detect(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    sl_cpu_level level = SL_CPU_SCALAR;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        level = SL_CPU_AVX2;
    if (level == SL_CPU_AVX2 && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        level = SL_CPU_AVX512;
    if (level == SL_CPU_AVX512 && __builtin_cpu_supports("avx512vnni"))
        level = SL_CPU_AVX512VNNI;
    return level;
#else
    return SL_CPU_SCALAR;
#endif
}

static sl_cpu_level apply_override(sl_cpu_level level) {
    const char *env = getenv("SEARCHLITE_CPU");
    if (!env || !*env) return level;
    sl_cpu_level want = level;
    if (!strcmp(env, "scalar")) want = SL_CPU_SCALAR;
    else if (!strcmp(env, "avx2")) want = SL_CPU_AVX2;
    else if (!strcmp(env, "avx512")) want = SL_CPU_AVX512;
    else if (!strcmp(env, "avx512vnni")) want = SL_CPU_AVX512VNNI;
    /* The override can only lower the level: asking for more than the CPU
     * has would crash on an illegal instruction. */
    return want < level ? want : level;
}

static atomic_int g_level = -1;

sl_cpu_level sl_cpu(void) {
    int level = atomic_load_explicit(&g_level, memory_order_relaxed);
    if (level < 0) {
        level = (int)apply_override(detect());
        atomic_store_explicit(&g_level, level, memory_order_relaxed);
    }
    return (sl_cpu_level)level;
}

const char *sl_cpu_name(sl_cpu_level level) {
    switch (level) {
    case SL_CPU_SCALAR: return "scalar";
    case SL_CPU_AVX2: return "avx2";
    case SL_CPU_AVX512: return "avx512";
    case SL_CPU_AVX512VNNI: return "avx512vnni";
    }
    return "unknown";
}
