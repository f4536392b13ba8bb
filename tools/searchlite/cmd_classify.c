/* searchlite classify — placeholder until the TFLite interpreter lands. */
#include "commands.h"

int cmd_classify(int argc, char **argv) {
    (void)argc;
    (void)argv;
    cli_error("classify: not built yet");
    return 1;
}
