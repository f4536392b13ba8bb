/* The searchlite commands: one file per command, each a main-like entry
 * point that receives the arguments after the command name. */
#ifndef SL_CLI_COMMANDS_H
#define SL_CLI_COMMANDS_H

typedef struct sl_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} sl_command;

#include "searchlite.h"

#include <stdio.h>

int cmd_classify(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_similar(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_info(int argc, char **argv);

/* Shared helpers for commands (cli_util.c). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "searchlite: <what>: <status text>: <detail>" for a failed call. */
void cli_status_error(const char *what, int status);
/* Installs a stderr log callback; verbose lowers the level to DEBUG. */
void cli_setup_log(int verbose);
/* Parses a positive int option value; prints an error and returns 0 on
 * failure. */
int cli_parse_int(const char *opt, const char *value, long lo, long hi, long *out);

/* Where the model and the library are, in order: the --model/--library
 * value, $SEARCHLITE_MODEL/$SEARCHLITE_LIBRARY, the data directory
 * (sl_data_dir). Returns 0 after printing an error. */
int cli_model_path(const char *flag, char *buf, size_t size);
int cli_library_path(const char *flag, char *buf, size_t size);
/* Opens the model; when the default model is missing, the error says how to
 * build it. Returns NULL after printing an error. */
sl_model *cli_open_model(const char *path);
/* mkdir -p of the directory holding `path`. Returns 0 after an error. */
int cli_make_parent_dirs(const char *path);
/* Writes s as a JSON string literal (quotes included). */
void cli_json_string(FILE *out, const char *s);
/* Monotonic clock in seconds. */
double cli_now(void);
/* True when stderr is a terminal (progress bars go there). */
int cli_stderr_is_tty(void);

/* searchlite train's progress on stderr (epochs on a TTY; fold results on
 * stdout), its final report, and the default feature cache folder
 * ($XDG_CACHE_HOME/searchlite/features or ~/.cache/..., created; 0 when
 * there is no home) — shared with `model build` (cmd_train.c). */
typedef struct cli_train_state {
    int tty, quiet;
    double last;
} cli_train_state;
int cli_train_progress(void *user, const sl_train_progress *p);
void cli_print_train_report(const sl_train_report *r);
int cli_feature_cache_dir(char *buf, size_t size);

#endif
