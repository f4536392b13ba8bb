/* searchlite eval: retrieval quality of the model on a COCO captions set. */
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: searchlite eval --captions FILE --images DIR [options]\n"
            "\n"
            "Embeds every image of a COCO captions file (images[].file_name under DIR)\n"
            "and every caption, then measures retrieval both ways:\n"
            "  text->image  each caption ranks all images; its own image's rank counts\n"
            "  image->text  each image ranks all captions; its best own caption counts\n"
            "and prints Recall@1/5/10 (share of queries whose answer is in the top 1/5/10)\n"
            "and the median rank. Ties rank by image (or caption) order. No library is\n"
            "used or changed.\n"
            "\n"
            "options:\n"
            "  --captions FILE  COCO captions JSON (images[] and annotations[])\n"
            "  --images DIR     folder holding the images\n"
            "  --model FILE     the model (default: $SEARCHLITE_MODEL, else\n"
            "                   $XDG_DATA_HOME/searchlite/" SL_DEFAULT_MODEL_NAME ")\n"
            "  --threads N      images embedded at once (default 2)\n"
            "  --json           print JSON\n"
            "  -q, --quiet      no progress\n"
            "  -h, --help       this help\n"
            "\n"
            "exit status: 0 on success, 1 on failure, 2 for a usage error.\n");
}

static int on_progress(void *user, size_t done, size_t total) {
    double *last = user;
    double now = cli_now();
    if (now - *last >= 0.1 || done == total) {
        fprintf(stderr, "\r\033[Kembedding images %zu/%zu", done, total);
        if (done == total) fputs("\r\033[K", stderr);
        fflush(stderr);
        *last = now;
    }
    return 0;
}

static void print_recall_json(const char *name, const sl_recall *r) {
    printf("  \"%s\": {\"r1\": %.6f, \"r5\": %.6f, \"r10\": %.6f, \"median_rank\": %.1f, \"queries\": %zu}", name,
           r->r1, r->r5, r->r10, r->median_rank, r->n_queries);
}

int cmd_eval(int argc, char **argv) {
    const char *captions = NULL, *images = NULL, *model_flag = NULL;
    long threads = 2;
    int json = 0, quiet = 0;
    static const struct option opts[] = {
        {"captions", required_argument, 0, 'c'}, {"images", required_argument, 0, 'i'},
        {"model", required_argument, 0, 'm'},    {"threads", required_argument, 0, 'j'},
        {"json", no_argument, 0, 'J'},           {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': captions = optarg; break;
        case 'i': images = optarg; break;
        case 'm': model_flag = optarg; break;
        case 'j':
            if (!cli_parse_int("--threads", optarg, 1, 256, &threads)) return 2;
            break;
        case 'J': json = 1; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || !captions || !images) {
        cli_error(optind < argc ? "eval: unexpected argument '%s'" : "eval: --captions and --images are required%s",
                  optind < argc ? argv[optind] : "");
        return 2;
    }
    char model_path[4096];
    if (!cli_model_path(model_flag, model_path, sizeof model_path)) return 1;
    cli_setup_log(0);
    sl_model *model = cli_open_model(model_path);
    if (!model) return 1;
    sl_eval_opts o;
    sl_eval_opts_init(&o);
    o.n_threads = (int)threads;
    double last = 0;
    if (!quiet && cli_stderr_is_tty()) {
        o.progress = on_progress;
        o.progress_user = &last;
    }
    sl_eval_report r;
    sl_status st = sl_eval_captions(model, captions, images, &o, &r);
    if (st) {
        cli_status_error("eval", st);
        sl_model_free(model);
        return 1;
    }
    if (json) {
        printf("{\n  \"model\": ");
        cli_json_string(stdout, sl_model_id(model));
        printf(",\n  \"images\": %zu,\n  \"captions\": %zu,\n  \"captions_without_known_words\": %zu,\n", r.n_images,
               r.n_captions, r.n_captions_unknown);
        print_recall_json("text_to_image", &r.text_to_image);
        printf(",\n");
        print_recall_json("image_to_text", &r.image_to_text);
        printf(",\n  \"seconds_images\": %.3f,\n  \"seconds_text\": %.3f\n}\n", r.seconds_images, r.seconds_text);
    } else {
        printf("%zu images, %zu captions (%zu without a known word), model %s\n", r.n_images, r.n_captions,
               r.n_captions_unknown, sl_model_id(model));
        printf("%-12s %7s %7s %7s %12s\n", "", "R@1", "R@5", "R@10", "median rank");
        const sl_recall *rs[2] = {&r.text_to_image, &r.image_to_text};
        const char *names[2] = {"text->image", "image->text"};
        for (int i = 0; i < 2; i++)
            printf("%-12s %6.1f%% %6.1f%% %6.1f%% %12.1f\n", names[i], 100 * rs[i]->r1, 100 * rs[i]->r5,
                   100 * rs[i]->r10, rs[i]->median_rank);
        printf("embedding: images %.1f s (%.1f ms each), captions %.2f s\n", r.seconds_images,
               r.n_images ? 1000 * r.seconds_images / (double)r.n_images : 0.0, r.seconds_text);
    }
    sl_model_free(model);
    return 0;
}
