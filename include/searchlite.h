/* searchlite — on-device text-to-image search in C.
 *
 * This is the only public header. What is not declared here is not API.
 *
 * Conventions
 * - Every fallible call returns an sl_status (SL_OK == 0). The detailed
 *   message of the latest failure on the calling thread is returned by
 *   sl_last_error(). Messages are thread-local rather than stored on the
 *   handle because read-only handles (models, indexes) are shared between
 *   threads, and a per-handle message would race.
 * - Handles are opaque; every `*_open`/`*_new` has a `*_free`, and
 *   `*_free(NULL)` is a no-op.
 * - The library never prints and never exits; it logs through the callback
 *   set with sl_set_log().
 * - Every decoder (images, TFLite files) treats its input as hostile.
 */
#ifndef SEARCHLITE_H
#define SEARCHLITE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SL_BUILDING_LIBRARY) && (defined(__GNUC__) || defined(__clang__))
#define SL_API __attribute__((visibility("default")))
#else
#define SL_API
#endif

#define SL_VERSION_MAJOR 0
#define SL_VERSION_MINOR 1
#define SL_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" of the linked library. */
SL_API const char *sl_version(void);

/* ------------------------------------------------------------------------ */
/* Status and errors                                                         */
/* ------------------------------------------------------------------------ */

/* Stable values; new codes are only ever appended. */
typedef enum sl_status {
    SL_OK = 0,
    SL_ERR_ARG = 1,         /* invalid argument passed by the caller */
    SL_ERR_NOMEM = 2,       /* an allocation failed */
    SL_ERR_IO = 3,          /* a file could not be opened, read or written */
    SL_ERR_CORRUPT = 4,     /* input is malformed or truncated */
    SL_ERR_UNSUPPORTED = 5, /* well-formed input using a feature we lack */
    SL_ERR_LIMIT = 6,       /* input exceeds a safety cap (size, dimension) */
    SL_ERR_NOT_FOUND = 7,   /* a named thing does not exist */
    SL_ERR_CHECKSUM = 8,    /* a checksum did not match */
    SL_ERR_STATE = 9,       /* call not valid in the handle's current state */
    SL_ERR_INTERNAL = 10    /* a bug in searchlite; please report it */
} sl_status;

/* Short constant description of a status ("corrupt input", ...). Never NULL. */
SL_API const char *sl_status_str(sl_status status);

/* Detailed message of the latest failing call on this thread, or "" when
 * there was none. Valid until the next searchlite call on this thread. */
SL_API const char *sl_last_error(void);

/* ------------------------------------------------------------------------ */
/* Logging                                                                   */
/* ------------------------------------------------------------------------ */

typedef enum sl_log_level {
    SL_LOG_DEBUG = 0,
    SL_LOG_INFO = 1,
    SL_LOG_WARN = 2,
    SL_LOG_ERROR = 3
} sl_log_level;

/* Receives one complete message, without a trailing newline. May be called
 * from any thread; the callback must be thread-safe. */
typedef void (*sl_log_fn)(void *user, sl_log_level level, const char *message);

/* Sets the process-wide log callback (NULL: discard all messages) and the
 * lowest level that reaches it. Default: no callback. */
SL_API void sl_set_log(sl_log_fn fn, void *user, sl_log_level min_level);

/* ------------------------------------------------------------------------ */
/* Images                                                                    */
/* ------------------------------------------------------------------------ */

/* Default cap on decoded pixels (width * height): 100 megapixels. */
#define SL_IMAGE_DEFAULT_MAX_PIXELS ((uint64_t)100 * 1000 * 1000)
/* Hard cap on either side, whatever the options say. */
#define SL_IMAGE_MAX_SIDE 65535u

/* An 8-bit RGB image. The pixels are owned by the struct and released by
 * sl_image_free(). */
typedef struct sl_image {
    uint32_t width;
    uint32_t height;
    uint8_t *pixels; /* (height, width, 3) row-major, interleaved R,G,B */
} sl_image;

typedef struct sl_decode_opts {
    /* 0 = decode at full size. Otherwise JPEG may be decoded at a reduced
     * DCT scale (1/2, 1/4, 1/8) as long as the result stays at least this
     * large in both dimensions (after orientation). Other formats ignore it. */
    uint32_t min_width;
    uint32_t min_height;
    /* Refuse images with more than this many pixels (SL_ERR_LIMIT) before
     * allocating them. 0 = SL_IMAGE_DEFAULT_MAX_PIXELS. Counts the stored
     * size even when a DCT-reduced decode is asked for (libjpeg buffers the
     * whole image for progressive files). */
    uint64_t max_pixels;
    /* Nonzero: rotate/flip JPEGs according to their EXIF Orientation tag. */
    int apply_orientation;
} sl_decode_opts;

/* Full-size decode, default pixel cap, EXIF orientation applied. */
SL_API void sl_decode_opts_init(sl_decode_opts *opts);

/* Decodes a JPEG, PNG or BMP held in memory (format detected from the
 * bytes). Grayscale, palette, 16-bit, alpha (dropped) and CMYK inputs are
 * converted to 8-bit RGB. `opts` may be NULL (defaults). On success *out
 * owns new pixels; on failure *out is zeroed.
 * Errors: SL_ERR_ARG, SL_ERR_UNSUPPORTED (unknown format), SL_ERR_CORRUPT
 * (malformed or truncated), SL_ERR_LIMIT (too many pixels), SL_ERR_NOMEM. */
SL_API sl_status sl_image_decode(const void *data, size_t size,
                          const sl_decode_opts *opts, sl_image *out);

/* Reads and decodes a file. Files larger than 8 * max_pixels + 64 MiB are
 * refused (SL_ERR_LIMIT) before they are read. Errors as sl_image_decode,
 * plus SL_ERR_IO. */
SL_API sl_status sl_image_load(const char *path, const sl_decode_opts *opts,
                        sl_image *out);

/* Resizes with a bilinear (triangle) filter whose support widens when
 * shrinking, reproducing Pillow's Image.resize(size, Image.BILINEAR).
 * `out` may be `src` itself: on success the image is replaced and its old
 * pixels freed; on failure `*out` is left untouched.
 * Errors: SL_ERR_ARG, SL_ERR_LIMIT (over 100 megapixels), SL_ERR_NOMEM. */
SL_API sl_status sl_image_resize(const sl_image *src, uint32_t width,
                          uint32_t height, sl_image *out);

/* Copies the central square of `src` (side = min(width, height), offset
 * rounded down as PIL's crop box in tflite_reference.py). `out` may be
 * `src` (as for sl_image_resize). Errors: SL_ERR_ARG, SL_ERR_NOMEM. */
SL_API sl_status sl_image_center_crop(const sl_image *src, sl_image *out);

/* Shrinks `src` so that its longer side is at most `max_side`, keeping the
 * aspect ratio (each side at least 1), with sl_image_resize's filter; an
 * image already small enough is copied. `out` may be `src`.
 * Errors: SL_ERR_ARG (max_side 0), SL_ERR_NOMEM. */
SL_API sl_status sl_image_thumbnail(const sl_image *src, uint32_t max_side,
                                    sl_image *out);

/* Encodes an image as a baseline JPEG (libjpeg-turbo, 4:2:0, quality
 * 1..100). On success *data is a new malloc'd buffer of *size bytes that
 * the caller frees with free(). Errors: SL_ERR_ARG, SL_ERR_NOMEM. */
SL_API sl_status sl_image_encode_jpeg(const sl_image *img, int quality,
                                      uint8_t **data, size_t *size);

/* Releases the pixels and zeroes the struct. NULL or empty is a no-op. */
SL_API void sl_image_free(sl_image *img);

/* ------------------------------------------------------------------------ */
/* TensorFlow Lite models                                                    */
/* ------------------------------------------------------------------------ */

/* A loaded .tflite model with its own activation memory. Running it mutates
 * that memory, so one handle serves one thread at a time; open one handle per
 * concurrent caller (the weights are small). */
typedef struct sl_tflite sl_tflite;

typedef struct sl_tflite_opts {
    int n_threads;         /* threads used inside one run; <= 0 means 1 */
    int reference_kernels; /* nonzero: plain C reference kernels only */
} sl_tflite_opts;

SL_API void sl_tflite_opts_init(sl_tflite_opts *opts);

/* Opens a .tflite file: validates every offset of the flatbuffer, checks
 * that every operator is supported and plans the memory. An unsupported
 * operator is refused with SL_ERR_UNSUPPORTED and a message naming it.
 * Errors: SL_ERR_IO, SL_ERR_CORRUPT, SL_ERR_UNSUPPORTED, SL_ERR_LIMIT,
 * SL_ERR_NOMEM. */
SL_API sl_status sl_tflite_open(const char *path, const sl_tflite_opts *opts,
                         sl_tflite **out);

/* As sl_tflite_open, from bytes in memory (copied; the caller keeps them). */
SL_API sl_status sl_tflite_open_memory(const void *data, size_t size,
                                const sl_tflite_opts *opts, sl_tflite **out);

SL_API void sl_tflite_free(sl_tflite *model);

/* Input image geometry expected by the model: (height, width, channels). */
SL_API void sl_tflite_input_size(const sl_tflite *model, uint32_t *height,
                          uint32_t *width, uint32_t *channels);

/* Number of elements of the (flattened) output tensor. */
SL_API size_t sl_tflite_output_count(const sl_tflite *model);

/* Runs the model on pixels already at the input size:
 * rgb (height, width, 3) row-major uint8, as sl_tflite_input_size says. */
SL_API sl_status sl_tflite_run_rgb(sl_tflite *model, const uint8_t *rgb);

/* Runs the model on any image: optional central square crop, then resize
 * to the input size as sl_image_resize does. */
SL_API sl_status sl_tflite_run_image(sl_tflite *model, const sl_image *image,
                              int center_crop);

/* After a successful run: the output dequantized to floats.
 * `out` holds `count` floats (count <= sl_tflite_output_count). */
SL_API sl_status sl_tflite_output(const sl_tflite *model, float *out, size_t count);

/* After a successful run: the raw output tensor bytes (uint8 / int8 values
 * for quantized outputs, native floats for float outputs), its element
 * count and its quantization (scale 0 for float outputs). Borrowed: valid
 * until the next run or sl_tflite_free. */
SL_API sl_status sl_tflite_output_raw(const sl_tflite *model, const void **data,
                               size_t *count, int *is_signed_int8,
                               int *is_float, float *scale,
                               int32_t *zero_point);

/* After a successful run: the k highest output entries, best first, ties
 * broken by the lower index. `index` and `score` hold k entries each;
 * k is clamped to the output count and the used count is returned in *n. */
SL_API sl_status sl_tflite_topk(const sl_tflite *model, size_t k, uint32_t *index,
                         float *score, size_t *n);

/* ------------------------------------------------------------------------ */
/* Labels                                                                    */
/* ------------------------------------------------------------------------ */

/* A label list: one label per line, UTF-8, line i = class i. */
typedef struct sl_labels sl_labels;

/* Errors: SL_ERR_IO, SL_ERR_CORRUPT (NUL bytes, over-long lines),
 * SL_ERR_LIMIT (more than 1,000,000 labels), SL_ERR_NOMEM. */
SL_API sl_status sl_labels_load(const char *path, sl_labels **out);
SL_API void sl_labels_free(sl_labels *labels);
SL_API size_t sl_labels_count(const sl_labels *labels);
/* The label of class i, or NULL when i is out of range. Borrowed. */
SL_API const char *sl_labels_get(const sl_labels *labels, size_t i);

#ifdef __cplusplus
}
#endif
#endif /* SEARCHLITE_H */
