/// AstroPile's narrow C API over Arrow/Parquet C++ (from the pinned pyarrow wheel).
///
/// Data crosses as Arrow C Data Interface structs; everything else is an opaque handle.
/// Every function returning `int` returns 0 on success; on failure it returns non-zero and sets
/// `*error` to a malloc'd message from Arrow (free it with `ap_string_free`). A failure that a
/// system call reported returns `AP_ERRNO_BASE + errno` (so a full disk is told by ENOSPC, not by
/// the message's text); any other failure returns 1.
#ifndef ASTROPILE_ARROW_SHIM_H
#define ASTROPILE_ARROW_SHIM_H

#include <stdint.h>
#ifdef __cplusplus
/* C++ (the shim's own compilation): Arrow's copy of the same ABI structs. */
#include <arrow/c/abi.h>
#else
/* C (Swift's importer): the shared definitions, so Swift sees one ArrowSchema/ArrowArray type. */
#include <CArrowData.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/// Failures carrying an OS error number return this plus the number (see above).
#define AP_ERRNO_BASE 1000

void ap_string_free(char* s);

/// A stream of record batches from a file (Parquet, CSV or an Arrow IPC stream).
typedef struct ap_reader ap_reader;

/// Opens a Parquet file for streaming in batches of `batch_rows`. `columns` (may be NULL)
/// selects top-level columns by name; `row_groups` (may be NULL: all) selects row groups by
/// position, read in the order given. The reader's schema is written to `schema_out`; `num_rows`
/// receives the rows that will be read.
int ap_parquet_reader_open(const char* path, const char* const* columns, int n_columns, const int* row_groups,
                           int n_row_groups, int64_t batch_rows, ap_reader** out, struct ArrowSchema* schema_out,
                           int64_t* num_rows, char** error);

/// Per-row-group statistics of one top-level numeric column of a Parquet file. `kind` receives
/// 0 when the column is integer (`mins`/`maxs` hold int64 values), 1 when floating point (they
/// hold doubles' bit patterns), 2 when the column has another type or no statistics (nothing
/// else is written). `rows` receives each group's row count. Arrays hold `capacity` entries;
/// `n_groups` receives the number of row groups (when larger than `capacity`, call again).
int ap_parquet_row_group_stats(const char* path, const char* column, int capacity, int* n_groups, int* kind,
                               int64_t* mins, int64_t* maxs, int64_t* rows, char** error);

/// CSV reading options.
typedef struct ap_csv_options {
  char delimiter;
  /// 0 when the file has no header row (then `column_names` must be given).
  int has_header;
  const char* const* column_names;
  int n_column_names;
  /// Optional struct schema whose fields force column types by name (NULL: infer).
  struct ArrowSchema* column_types;
  /// Compression of the file: 0 none, 1 gzip, 2 bz2.
  int compression;
  int64_t block_size;
  /// Rows with a wrong number of fields are skipped and logged (1) or fail the read (0).
  int skip_invalid_rows;
  /// Only these columns are decoded, in this order (NULL / 0: all); each must exist.
  const char* const* include_columns;
  int n_include_columns;
} ap_csv_options;

/// Opens a CSV file for streaming. The schema (inferred from the first block unless forced)
/// is written to `schema_out`.
int ap_csv_reader_open(const char* path, const ap_csv_options* options, ap_reader** out,
                       struct ArrowSchema* schema_out, char** error);

/// Reads the next batch into `out`; sets `*end` to 1 (and leaves `out` untouched) at the end.
int ap_reader_next(ap_reader* reader, struct ArrowArray* out, int* end, char** error);

/// Number of invalid CSV rows skipped so far; `ap_reader_invalid_row` reads one (line number is
/// one-based and counts the header; the text is malloc'd, free with `ap_string_free`).
int64_t ap_reader_invalid_count(ap_reader* reader);
void ap_reader_invalid_row(ap_reader* reader, int64_t i, int64_t* line, int32_t* expected, int32_t* actual, char** text);

void ap_reader_free(ap_reader* reader);

/// Arrow IPC file writer (spill runs).
typedef struct ap_ipc_writer ap_ipc_writer;
/// `direct`: write with O_DIRECT (ordinary I/O where the file system refuses it).
int ap_ipc_writer_open(const char* path, struct ArrowSchema* schema, int direct, ap_ipc_writer** out, char** error);
int ap_ipc_writer_write(ap_ipc_writer* writer, struct ArrowArray* batch, char** error);
int ap_ipc_writer_close(ap_ipc_writer* writer, char** error);
void ap_ipc_writer_free(ap_ipc_writer* writer);

/// Memory-mapped Arrow IPC file reader with random access by batch.
/// A CSV writer (header line, then rows; Arrow's `csv::MakeCSVWriter`).
typedef struct ap_csv_writer ap_csv_writer;

/// Opens a CSV writer on `path`, or on standard output when `path` is NULL.
int ap_csv_writer_open(const char* path, struct ArrowSchema* schema, ap_csv_writer** out, char** error);
int ap_csv_writer_write(ap_csv_writer* writer, struct ArrowArray* batch, char** error);
int ap_csv_writer_close(ap_csv_writer* writer, char** error);
void ap_csv_writer_free(ap_csv_writer* writer);

typedef struct ap_ipc_file ap_ipc_file;
/// `direct`: read with O_DIRECT (each batch fetched from disk, not cached).
int ap_ipc_file_open(const char* path, int direct, ap_ipc_file** out, struct ArrowSchema* schema_out, int* num_batches,
                     char** error);
int ap_ipc_file_read(ap_ipc_file* file, int index, struct ArrowArray* out, char** error);
void ap_ipc_file_free(ap_ipc_file* file);

/// Parquet writing options.
typedef struct ap_parquet_write_options {
  /// 0 uncompressed, 1 snappy, 2 zstd, 3 gzip, 4 lz4.
  int compression;
  int compression_level;
  int64_t row_group_rows;
  int write_statistics;
  /// Declare the rows sorted ascending by column 0 (Parquet `sorting_columns`).
  int sorted_by_first_column;
  /// Write with O_DIRECT (bypassing the page cache; ordinary I/O where the file system refuses it).
  int direct_io;
} ap_parquet_write_options;

typedef struct ap_parquet_writer ap_parquet_writer;
int ap_parquet_writer_open(const char* path, struct ArrowSchema* schema, const ap_parquet_write_options* options,
                           ap_parquet_writer** out, char** error);
int ap_parquet_writer_write(ap_parquet_writer* writer, struct ArrowArray* batch, char** error);
int ap_parquet_writer_close(ap_parquet_writer* writer, char** error);
void ap_parquet_writer_free(ap_parquet_writer* writer);

/// Writes `_metadata` (all row groups of `leaf_paths`, with file paths set to `relative_paths`)
/// and `_common_metadata` (schema only, from `schema`). Either output path may be NULL.
int ap_parquet_write_dataset_metadata(const char* const* leaf_paths, const char* const* relative_paths, int n,
                                      struct ArrowSchema* schema, const char* metadata_path,
                                      const char* common_metadata_path, char** error);

/// Reads a Parquet file's footer: row count, row groups and Arrow schema.
int ap_parquet_file_info(const char* path, int64_t* num_rows, int* num_row_groups, struct ArrowSchema* schema_out,
                         char** error);

/// A set of record batches held as one chunked table (zero-copy), to take rows from repeatedly.
typedef struct ap_table ap_table;

/// Makes a table of `batches` (all of `schema`); consumes the schema and every batch.
int ap_table_make(struct ArrowSchema* schema, struct ArrowArray* batches, int n_batches, ap_table** out, char** error);

/// Rows `indices` (positions in the concatenation of the table's batches) as one batch.
int ap_table_take(ap_table* table, const int64_t* indices, int64_t n_indices, struct ArrowArray* out, char** error);

/// As `ap_table_take`, but a negative index gives a row of nulls (a left join's unmatched rows).
int ap_table_take_or_null(ap_table* table, const int64_t* indices, int64_t n_indices, struct ArrowArray* out,
                          char** error);

void ap_table_free(ap_table* table);

/// Casts `batch` (of `schema`) to `target` (consumes all three inputs); columns missing from the
/// batch become all-null columns of the target type.
int ap_cast_batch(struct ArrowSchema* schema, struct ArrowArray* batch, struct ArrowSchema* target,
                  struct ArrowArray* out, char** error);

/// Streams the decompression of `src` (1 gzip, 2 bz2) into `dst`, in bounded memory.
int ap_decompress_file(const char* src, const char* dst, int compression, char** error);

/// Arrow's version string (e.g. "26.0.1"), static.
const char* ap_arrow_version(void);

#ifdef __cplusplus
}
#endif

#endif
