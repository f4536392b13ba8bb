/* searchlite command-line tool: dispatches to one file per command. Uses
 * only the public header. */
#include "commands.h"

#include "searchlite.h"

#include <stdio.h>
#include <string.h>

static const sl_command commands[] = {
    {"search", "find the library's images that match a text query", cmd_search},
    {"similar", "find the library's images most like a given image", cmd_similar},
    {"index", "add folders of photos to the library (new and changed files)", cmd_index},
    {"export", "write the library as one read-only app file for apps", cmd_export},
    {"eval", "measure retrieval (Recall@K) on a COCO captions set", cmd_eval},
    {"train", "train the dual encoder's heads on captioned images (a tuned model)", cmd_train},
    {"info", "describe a model: identity, training data, held-out scores (= model info)", cmd_info},
    {"model", "build the default model, or describe a model file", cmd_model},
    {"classify", "label images with a TFLite classifier (top-k classes)", cmd_classify},
};

static void usage(FILE *out) {
    fprintf(out,
            "searchlite %s — on-device text-to-image search\n\n"
            "usage: searchlite COMMAND [OPTIONS] [ARGS]\n\n"
            "commands:\n",
            sl_version());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\nfirst steps:\n"
            "  searchlite model build              # once: makes the default model\n"
            "  searchlite index ~/Pictures         # embeds your photos into the library\n"
            "  searchlite search \"a dog sitting on a chair\" --html results.html\n"
            "\n'searchlite COMMAND --help' describes a command.\n"
            "Environment: SEARCHLITE_MODEL, SEARCHLITE_LIBRARY (default model and library),\n"
            "  SEARCHLITE_ASSETS (asset cache), SEARCHLITE_CPU=scalar|avx2|avx512|avx512vnni (cap the SIMD level)\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("searchlite %s\n", sl_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "searchlite: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
