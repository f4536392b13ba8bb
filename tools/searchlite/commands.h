/* The searchlite commands: one file per command, each a main-like entry
 * point that receives the arguments after the command name. */
#ifndef SL_CLI_COMMANDS_H
#define SL_CLI_COMMANDS_H

typedef struct sl_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} sl_command;

int cmd_classify(int argc, char **argv);

/* Shared helpers for commands (cli_util.c). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "searchlite: <what>: <status text>: <detail>" for a failed call. */
void cli_status_error(const char *what, int status);
/* Installs a stderr log callback; verbose lowers the level to DEBUG. */
void cli_setup_log(int verbose);
/* Parses a positive int option value; prints an error and returns 0 on
 * failure. */
int cli_parse_int(const char *opt, const char *value, long lo, long hi, long *out);

#endif
