/* Embedding one image file for the indexer, on a worker thread. The file is
 * read once: the same bytes are hashed (the item's content hash) and
 * decoded, so the hash always describes what was embedded. */
#include "api/index_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest file sl_image_load would accept with the default pixel cap. */
#define SL_INDEX_MAX_FILE ((size_t)(8 * SL_IMAGE_DEFAULT_MAX_PIXELS) + ((size_t)64 << 20))

/* Records the thread's message for the calling thread to log in path order
 * (sl_last_error is thread-local). Messages that already start with the
 * path (file errors) lose that prefix: the log line names the file. */
static void job_fail(sl_embed_job *job) {
    const char *msg = sl_last_error();
    size_t n = strlen(job->path);
    if (strncmp(msg, job->path, n) == 0 && msg[n] == ':') {
        msg += n + 1;
        while (*msg == ' ') msg++;
    }
    snprintf(job->error, sizeof job->error, "%s", *msg ? msg : "unknown error");
    job->outcome = SL_EMBED_FAILED;
}

void sl_embed_job_run(const sl_model *model, sl_embed_job *job) {
    job->outcome = SL_EMBED_FAILED;
    job->error[0] = '\0';
    job->width = job->height = 0;
    uint8_t *data = NULL;
    size_t size = 0;
    sl_status st = sl_file_read(job->path, SL_INDEX_MAX_FILE, &data, &size);
    if (st != SL_OK) {
        job_fail(job);
        return;
    }
    sl_sha256_once(data, size, job->hash);
    if (job->check_hash && memcmp(job->hash, job->expect_hash, SL_SHA256_SIZE) == 0) {
        free(data);
        job->outcome = SL_EMBED_SAME;
        return;
    }
    sl_decode_opts opts;
    sl_decode_opts_init(&opts);
    sl_image img = {0};
    st = sl_image_decode(data, size, &opts, &img);
    free(data); /* the decoded pixels are all that is needed from here */
    if (st == SL_OK) st = sl_model_embed_image(model, &img, job->vec);
    if (st != SL_OK) {
        sl_image_free(&img);
        job_fail(job);
        return;
    }
    job->width = img.width;
    job->height = img.height;
    sl_image_free(&img);
    job->outcome = SL_EMBED_DONE;
}
