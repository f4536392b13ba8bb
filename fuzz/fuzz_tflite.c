/* libFuzzer target for the TFLite decoder and interpreter: open the input
 * as a model; when it opens, run it once on a gray image with the reference
 * kernels and read the output. Models whose one run would take long are
 * opened but not run (the library's own caps bound memory and work; this
 * bound only keeps the fuzzer fast). See docs/TFLITE.md, "Fuzzing". */
#include "searchlite.h"
#include "tflite/interp.h"

#include <stdlib.h>
#include <string.h>

/* Multiply-accumulates of one run we are willing to spend per input. */
#define FUZZ_MAX_WORK ((uint64_t)1 << 25)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sl_tflite_opts opts;
    sl_tflite_opts_init(&opts);
    opts.reference_kernels = 1;
    sl_tflite *model = NULL;
    if (sl_tflite_open_memory(data, size, &opts, &model) != SL_OK) {
        if (model) abort(); /* a failed open must not hand out a handle */
        return 0;
    }
    if (sl_tflite_work(model) <= FUZZ_MAX_WORK) {
        uint32_t h, w, c;
        sl_tflite_input_size(model, &h, &w, &c);
        size_t n = (size_t)h * w * 3;
        uint8_t *gray = malloc(n ? n : 1);
        if (gray) {
            memset(gray, 128, n);
            if (sl_tflite_run_rgb(model, gray) != SL_OK) abort(); /* runs never fail */
            size_t count = sl_tflite_output_count(model);
            float first[8];
            if (sl_tflite_output(model, first, count < 8 ? count : 8) != SL_OK) abort();
            uint32_t idx[5];
            float score[5];
            size_t got;
            if (sl_tflite_topk(model, 5, idx, score, &got) != SL_OK) abort();
            free(gray);
        }
    }
    sl_tflite_free(model);
    return 0;
}
