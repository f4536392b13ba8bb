/* searchlite classify: label images with a TFLite classifier. */
#include "commands.h"

#include "searchlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: searchlite classify MODEL.tflite IMAGE... [options]\n"
            "\n"
            "Runs a TensorFlow Lite image classifier (uint8 or int8 quantized MobileNet-style\n"
            "models) on each image and prints its best classes, one table per image:\n"
            "\n"
            "  rank  probability  index  label\n"
            "\n"
            "'probability' is the dequantized output value (a probability for softmax\n"
            "outputs, a feature value for embedding extractors). Each image (JPEG, PNG or\n"
            "BMP; JPEG EXIF orientation applied) is resized to the model's input with a\n"
            "bilinear filter as Pillow does. An image that fails is reported on stderr and\n"
            "the others are still processed.\n"
            "\n"
            "options:\n"
            "  --labels FILE  class names, one per line (line i = class i); default:\n"
            "                 imagenet_labels.txt next to the model, when it has one\n"
            "                 label per output\n"
            "  -k N           number of classes to print (default 5, 1..100000)\n"
            "  --crop         crop the central square of each image before resizing\n"
            "  --threads N    threads used inside one run (default 1)\n"
            "  --reference    plain C reference kernels instead of the SIMD ones\n"
            "                 (slower; same results)\n"
            "  --raw          print every raw output value (the integers of a quantized\n"
            "                 output), one per line, instead of the table\n"
            "  -v, --verbose  log details on stderr\n"
            "  -h, --help     this help\n"
            "\n"
            "exit status: 0 when every image was classified, 1 when the model or any\n"
            "image failed, 2 for a usage error.\n");
}

/* imagenet_labels.txt in the model's directory, or NULL. Caller frees. */
static char *labels_next_to(const char *model) {
    const char *slash = strrchr(model, '/');
    size_t dir = slash ? (size_t)(slash - model + 1) : 0;
    const char *name = "imagenet_labels.txt";
    char *path = malloc(dir + strlen(name) + 1);
    if (!path) return NULL;
    memcpy(path, model, dir);
    strcpy(path + dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        free(path);
        return NULL;
    }
    fclose(f);
    return path;
}

static void print_raw(const sl_tflite *model) {
    const void *data;
    size_t count;
    int is_s8, is_float;
    if (sl_tflite_output_raw(model, &data, &count, &is_s8, &is_float, NULL, NULL) != SL_OK) return;
    for (size_t i = 0; i < count; i++) {
        if (is_float) printf("%g\n", (double)((const float *)data)[i]);
        else if (is_s8) printf("%d\n", ((const int8_t *)data)[i]);
        else printf("%u\n", ((const uint8_t *)data)[i]);
    }
}

int cmd_classify(int argc, char **argv) {
    const char *labels_path = NULL;
    long k = 5, threads = 1;
    int crop = 0, reference = 0, raw = 0, verbose = 0;
    const char **paths = calloc((size_t)argc, sizeof *paths);
    int n_paths = 0;
    if (!paths) {
        cli_error("out of memory");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(paths);
            return 0;
        } else if (!strcmp(a, "--labels")) {
            if (i + 1 >= argc) {
                cli_error("--labels needs a file");
                free(paths);
                return 2;
            }
            labels_path = argv[++i];
        } else if (!strcmp(a, "-k") || !strcmp(a, "--threads")) {
            long *dst = a[1] == 'k' ? &k : &threads;
            long hi = a[1] == 'k' ? 100000 : 256;
            if (!cli_parse_int(a, i + 1 < argc ? argv[i + 1] : NULL, 1, hi, dst)) {
                free(paths);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--crop")) {
            crop = 1;
        } else if (!strcmp(a, "--reference")) {
            reference = 1;
        } else if (!strcmp(a, "--raw")) {
            raw = 1;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            verbose = 1;
        } else if (!strcmp(a, "--")) {
            while (++i < argc) paths[n_paths++] = argv[i];
        } else if (a[0] == '-' && a[1]) {
            cli_error("classify: unknown option '%s' (see 'searchlite classify --help')", a);
            free(paths);
            return 2;
        } else {
            paths[n_paths++] = a;
        }
    }
    if (n_paths < 2) {
        usage(stderr);
        free(paths);
        return 2;
    }
    cli_setup_log(verbose);

    const char *model_path = paths[0];
    sl_tflite_opts opts;
    sl_tflite_opts_init(&opts);
    opts.n_threads = (int)threads;
    opts.reference_kernels = reference;
    sl_tflite *model = NULL;
    sl_status st = sl_tflite_open(model_path, &opts, &model);
    if (st) {
        cli_status_error("cannot open the model", st);
        free(paths);
        return 1;
    }

    sl_labels *labels = NULL;
    char *found = labels_path ? NULL : labels_next_to(model_path);
    const char *lp = labels_path ? labels_path : found;
    if (lp) {
        st = sl_labels_load(lp, &labels);
        if (st) {
            cli_status_error("cannot read the labels", st);
            if (labels_path) { /* asked for explicitly: that is an error */
                free(found);
                sl_tflite_free(model);
                free(paths);
                return 1;
            }
        } else if (sl_labels_count(labels) != sl_tflite_output_count(model)) {
            if (labels_path) {
                fprintf(stderr, "searchlite: warning: %s has %zu labels for %zu outputs\n", lp,
                        sl_labels_count(labels), sl_tflite_output_count(model));
            } else { /* found next to the model, but not this model's classes */
                sl_labels_free(labels);
                labels = NULL;
            }
        }
    }

    size_t kk = (size_t)k;
    uint32_t *index = malloc(kk * sizeof *index);
    float *score = malloc(kk * sizeof *score);
    int failed = 0;
    if (!index || !score) {
        cli_error("out of memory");
        failed = 1;
    }
    for (int i = 1; i < n_paths && index && score; i++) {
        sl_image img;
        st = sl_image_load(paths[i], NULL, &img);
        if (!st) {
            st = sl_tflite_run_image(model, &img, crop);
            sl_image_free(&img);
        }
        if (st) {
            cli_status_error(paths[i], st);
            failed = 1;
            continue;
        }
        if (raw) {
            printf("# %s\n", paths[i]);
            print_raw(model);
            continue;
        }
        size_t n = 0;
        if (sl_tflite_topk(model, kk, index, score, &n) != SL_OK) {
            cli_status_error(paths[i], SL_ERR_INTERNAL);
            failed = 1;
            continue;
        }
        printf("%s%s\n", i > 1 ? "\n" : "", paths[i]);
        printf("%6s  %11s  %6s  %s\n", "rank", "probability", "index", "label");
        for (size_t r = 0; r < n; r++) {
            const char *name = labels ? sl_labels_get(labels, index[r]) : NULL;
            printf("%6zu  %11.4f  %6u  %s\n", r + 1, (double)score[r], index[r], name ? name : "-");
        }
    }
    free(index);
    free(score);
    sl_labels_free(labels);
    free(found);
    sl_tflite_free(model);
    free(paths);
    return failed ? 1 : 0;
}
