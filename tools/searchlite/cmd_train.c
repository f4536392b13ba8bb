/* searchlite train: train projection heads on captioned images and write a
 * tuned model (docs/TRAINING.md). */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SETS 16

static void usage(FILE *out) {
    fprintf(out,
            "usage: searchlite train --captions FILE --images DIR [--captions FILE --images DIR ...]\n"
            "                        -o OUT.gguf [options]\n"
            "\n"
            "Trains the two projection heads of the dual encoder on captioned images\n"
            "(COCO captions format) and writes a tuned model: the base model's zero-shot\n"
            "embedding blended with the heads' output, the blend chosen on held-out images\n"
            "so that search is never worse than zero-shot there. The image and caption\n"
            "features are computed once and cached. Use the model with --model, or make\n"
            "it the default with SEARCHLITE_MODEL; libraries re-embed on the next index.\n"
            "\n"
            "data:\n"
            "  --captions FILE    COCO captions JSON; repeat with --images for more sets\n"
            "  --images DIR       the folder of the preceding captions file's images\n"
            "  --base MODEL       the model to start from (default: the default model)\n"
            "  -o, --out FILE     where to write the tuned model (required)\n"
            "held-out data:\n"
            "  --val-split X      share of the images held out to stop early and choose\n"
            "                     the blend (default 0.1)\n"
            "  --folds K          first run K-fold cross-validation split by image and\n"
            "                     record its held-out scores in the model (default: none)\n"
            "training:\n"
            "  --epochs N         most epochs (default 40; stops after --patience epochs\n"
            "                     without a validation gain, default 8)\n"
            "  --batch N          pairs per step (default 128)\n"
            "  --lr X             peak learning rate (default 0.001)\n"
            "  --weight-decay X   AdamW weight decay (default 0.05)\n"
            "  --dropout X        dropout on the hidden layer (default 0.3)\n"
            "  --dim N            head output size (default 128)\n"
            "  --hidden N         hidden layer size, 0 for linear heads (default 1024)\n"
            "  --seed N           seed of weights, sampling and splits (default 1)\n"
            "  --threads N        threads (default 2); same seed and threads, same model\n"
            "other:\n"
            "  --cache DIR        feature cache (default $XDG_CACHE_HOME/searchlite/features\n"
            "                     or ~/.cache/searchlite/features)\n"
            "  --no-cache         neither read nor write the cache\n"
            "  --description TEXT the training data as recorded in the model\n"
            "  -q, --quiet        no progress\n"
            "  -h, --help         this help\n"
            "\n"
            "exit status: 0 on success, 1 on failure, 2 for a usage error.\n");
}

static void print_recall_row(const char *name, const sl_recall *r) {
    printf("  %-22s %6.1f%% %6.1f%% %6.1f%% %8.1f\n", name, 100 * r->r1, 100 * r->r5, 100 * r->r10, r->median_rank);
}

int cli_train_progress(void *user, const sl_train_progress *p) {
    cli_train_state *s = user;
    if (p->phase == SL_TRAIN_FOLD) {
        /* the fold results are part of the output, not progress */
        if (s->tty && !s->quiet) fputs("\r\033[K", stderr);
        printf("fold %d/%d (blend %.2f):\n", p->fold, p->folds, (double)p->blend);
        print_recall_row("zero-shot", &p->zero_shot);
        print_recall_row("tuned", &p->tuned);
        fflush(stdout);
        return 0;
    }
    if (s->quiet) return 0;
    if (p->phase == SL_TRAIN_FEATURES) {
        if (!s->tty) return 0;
        double now = cli_now();
        if (now - s->last >= 0.1 || p->done == p->total) {
            fprintf(stderr, "\r\033[Kfeatures: image %zu/%zu  %.1f s", p->done, p->total, p->seconds);
            fflush(stderr);
            s->last = now;
        }
        return 0;
    }
    char fold[32] = "final";
    if (p->fold) snprintf(fold, sizeof fold, "fold %d/%d", p->fold, p->folds);
    fprintf(stderr, "%s%-10s epoch %3d/%-3d loss %.4f  validation R@1 %5.1f%% R@10 %5.1f%% (blend %.2f)  %6.1f s\n",
            s->tty ? "\r\033[K" : "", fold, p->epoch, p->epochs, p->loss, 100 * p->val_r1, 100 * p->val_r10,
            (double)p->blend, p->seconds);
    return 0;
}

static int parse_float(const char *opt, const char *v, double lo, double hi, float *out) {
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !(x >= lo && x <= hi)) {
        cli_error("%s: '%s' is not a number in %g..%g", opt, v, lo, hi);
        return 0;
    }
    *out = (float)x;
    return 1;
}

int cli_feature_cache_dir(char *buf, size_t size) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg) n = snprintf(buf, size, "%s/searchlite/features", xdg);
    else if (home && *home) n = snprintf(buf, size, "%s/.cache/searchlite/features", home);
    else return 0;
    if (n <= 0 || (size_t)n >= size) return 0;
    /* the folder itself: cli_make_parent_dirs makes the parents of a path */
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/x", buf);
    return cli_make_parent_dirs(probe);
}

void cli_print_train_report(const sl_train_report *r) {
    printf("%zu images, %zu captions (%zu without a known word); features %s in %.1f s, training %.1f s\n",
           r->n_images, r->n_captions, r->n_captions_unknown, r->features_from_cache ? "from the cache" : "computed",
           r->seconds_features, r->seconds_train);
    printf("  %-22s %7s %7s %7s %8s\n", "text->image", "R@1", "R@5", "R@10", "median");
    if (r->folds) {
        char name[64];
        snprintf(name, sizeof name, "%d-fold mean zero-shot", r->folds);
        print_recall_row(name, &r->cv_zero_shot);
        snprintf(name, sizeof name, "%d-fold mean tuned", r->folds);
        print_recall_row(name, &r->cv_tuned);
    }
    print_recall_row("validation zero-shot", &r->val_zero_shot);
    print_recall_row("validation tuned", &r->val_tuned);
    printf("blend %.2f, best epoch %d\n", (double)r->blend, r->epochs);
}

int cmd_train(int argc, char **argv) {
    sl_train_set sets[MAX_SETS];
    size_t n_caps = 0, n_imgs = 0;
    const char *base = NULL, *out = NULL, *cache = NULL, *description = NULL;
    int no_cache = 0, quiet = 0;
    sl_train_opts o;
    sl_train_opts_init(&o);
    static const struct option opts[] = {
        {"captions", required_argument, 0, 'c'},  {"images", required_argument, 0, 'i'},
        {"base", required_argument, 0, 'b'},      {"out", required_argument, 0, 'o'},
        {"val-split", required_argument, 0, 'v'}, {"folds", required_argument, 0, 'k'},
        {"epochs", required_argument, 0, 'e'},    {"patience", required_argument, 0, 'P'},
        {"batch", required_argument, 0, 'B'},     {"lr", required_argument, 0, 'l'},
        {"weight-decay", required_argument, 0, 'w'}, {"dropout", required_argument, 0, 'd'},
        {"dim", required_argument, 0, 'D'},       {"hidden", required_argument, 0, 'H'},
        {"seed", required_argument, 0, 's'},      {"threads", required_argument, 0, 'j'},
        {"cache", required_argument, 0, 'C'},     {"no-cache", no_argument, 0, 'N'},
        {"description", required_argument, 0, 'T'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};
    int c;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
        case 'i':
            if ((c == 'c' ? n_caps : n_imgs) >= MAX_SETS) {
                cli_error("train: at most %d captions sets", MAX_SETS);
                return 2;
            }
            if (c == 'c') sets[n_caps++].captions = optarg;
            else sets[n_imgs++].images_dir = optarg;
            break;
        case 'b': base = optarg; break;
        case 'o': out = optarg; break;
        case 'v':
            if (!parse_float("--val-split", optarg, 0.02, 0.5, &o.val_split)) return 2;
            break;
        case 'k':
            if (!cli_parse_int("--folds", optarg, 2, SL_TRAIN_MAX_FOLDS, &v)) return 2;
            o.folds = (int)v;
            break;
        case 'e':
            if (!cli_parse_int("--epochs", optarg, 1, 10000, &v)) return 2;
            o.epochs = (int)v;
            break;
        case 'P':
            if (!cli_parse_int("--patience", optarg, 1, 10000, &v)) return 2;
            o.patience = (int)v;
            break;
        case 'B':
            if (!cli_parse_int("--batch", optarg, 2, 1024, &v)) return 2;
            o.batch = (int)v;
            break;
        case 'l':
            if (!parse_float("--lr", optarg, 1e-7, 1, &o.lr)) return 2;
            break;
        case 'w':
            if (!parse_float("--weight-decay", optarg, 0, 10, &o.weight_decay)) return 2;
            break;
        case 'd':
            if (!parse_float("--dropout", optarg, 0, 0.95, &o.dropout)) return 2;
            break;
        case 'D':
            if (!cli_parse_int("--dim", optarg, 1, 4096, &v)) return 2;
            o.dim = (uint32_t)v;
            break;
        case 'H':
            if (!strcmp(optarg, "0")) o.hidden = 0;
            else if (!cli_parse_int("--hidden", optarg, 1, 16384, &v)) return 2;
            else o.hidden = (uint32_t)v;
            break;
        case 's': {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (end == optarg || *end || optarg[0] == '-' || errno == ERANGE) {
                cli_error("--seed: '%s' is not a non-negative integer", optarg);
                return 2;
            }
            o.seed = s;
            break;
        }
        case 'j':
            if (!cli_parse_int("--threads", optarg, 1, 256, &v)) return 2;
            o.n_threads = (int)v;
            break;
        case 'C': cache = optarg; break;
        case 'N': no_cache = 1; break;
        case 'T': description = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        cli_error("train: unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (!n_caps || n_caps != n_imgs) {
        cli_error("train: give --captions FILE --images DIR, as many of one as of the other");
        return 2;
    }
    if (!out) {
        cli_error("train: -o OUT.gguf is required (where to write the tuned model)");
        return 2;
    }
    char base_path[4096], cache_dir[4096];
    if (!cli_model_path(base, base_path, sizeof base_path)) return 1;
    if (!strcmp(base_path, out)) {
        cli_error("train: the output would overwrite the base model %s", out);
        return 2;
    }
    if (!no_cache) {
        if (cache) {
            char probe[4200];
            snprintf(cache_dir, sizeof cache_dir, "%s", cache);
            snprintf(probe, sizeof probe, "%s/x", cache_dir);
            if (!cli_make_parent_dirs(probe)) return 1;
        } else if (!cli_feature_cache_dir(cache_dir, sizeof cache_dir)) {
            no_cache = 1; /* no home to cache in: train without */
        }
    }
    if (!cli_make_parent_dirs(out)) return 1;
    cli_setup_log(0);
    o.sets = sets;
    o.n_sets = n_caps;
    o.cache_dir = no_cache ? NULL : cache_dir;
    o.description = description;
    cli_train_state ps = {cli_stderr_is_tty(), quiet, 0};
    o.progress = cli_train_progress;
    o.progress_user = &ps;
    sl_train_report r;
    sl_status st = sl_train(base_path, &o, out, &r);
    if (ps.tty && !quiet) fputs("\r\033[K", stderr);
    if (st) {
        cli_status_error("train", st);
        return 1;
    }
    cli_print_train_report(&r);
    sl_model *m = NULL;
    st = sl_model_open(out, &m);
    if (st) {
        cli_status_error("train: the written model does not open", st);
        return 1;
    }
    printf("wrote %s\n  id %s, dimension %u\n", out, sl_model_id(m), sl_model_dim(m));
    sl_model_free(m);
    return 0;
}
