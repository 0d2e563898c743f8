#include <functional>
// AstroPile's extern "C" shim over Arrow/Parquet C++. Thin: every function converts C Data
// Interface structs to Arrow objects, calls Arrow, and turns a failed Status into a message.
#include "ArrowShim.h"

#include <arrow/api.h>
#include <arrow/c/bridge.h>
#include <arrow/compute/api.h>
#include <arrow/csv/api.h>
#include <arrow/io/api.h>
#include <arrow/io/compressed.h>
#include <arrow/ipc/api.h>
#include <arrow/util/compression.h>
#include <arrow/util/io_util.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/arrow/writer.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>
#include <parquet/properties.h>
#include <parquet/statistics.h>

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <malloc.h>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace {

// Arrow's allocator: the system one (glibc malloc returns large freed blocks to the kernel at
// once, so RSS follows the --memory budget), unless the user chose another with the usual
// ARROW_DEFAULT_MEMORY_POOL variable. Runs when the library is loaded, before Arrow's first use.
// One malloc arena: with one arena per thread (Arrow's I/O pool, AstroPile's workers) glibc
// keeps freed memory in every arena and the process's RSS drifts far above what is in use;
// measured on the 10M-row CSV import, 1.07 GB peak RSS with the default, 0.68 GB with one arena,
// at the same speed. MALLOC_ARENA_MAX in the environment still wins.
__attribute__((constructor)) void astropile_choose_memory_pool() {
  setenv("ARROW_DEFAULT_MEMORY_POOL", "system", /*overwrite=*/0);
  if (!getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, 1);
  // Arrow's buffers (CSV blocks, columns of a run) are MiBs each: served by mmap they are
  // page-faulted and zeroed anew every time (seconds of system time per GiB read); from the
  // heap they are reused. Measured on the 10M-row CSV import: 3.6 s instead of 5-7 s system time.
  if (!getenv("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_THRESHOLD, 64 << 20);
}

// Direct I/O (O_DIRECT) streams for files written once and read at most once: the alert
// ingest's spill runs and the lake's Parquet files. Arrow's FileOutputStream/ReadableFile go
// through the page cache, where every GiB costs a copy into freshly allocated pages — measured
// on this 2-core VM: 14.4 s of system time to write 4 GB with dd, 0.4 s with oflag=direct —
// and fills the cache with data nobody reads again. Arrow has no O_DIRECT stream, so these
// are written here: writes go through an aligned staging buffer, whole aligned blocks at a
// time, the last block padded and the file truncated to its length; reads fetch the aligned
// span around each request into aligned memory and hand out a zero-copy slice. Where the file
// system refuses O_DIRECT (tmpfs, some network file systems) both fall back to ordinary I/O.
constexpr int64_t kDirectAlign = 4096;
constexpr int64_t kDirectBuffer = 4 << 20;

arrow::Status errnoStatus(const char* what) {
  int e = errno;
  // The errno travels as the status's detail (Arrow's own file streams do the same), so fail()
  // can hand it to Swift.
  return arrow::Status::IOError(what, ": ", std::strerror(e)).WithDetail(arrow::internal::StatusDetailFromErrno(e));
}

// Turns O_DIRECT off on `fd` (a file system that accepts the flag at open but not the I/O).
arrow::Status dropDirect(int fd, bool* direct) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_DIRECT) != 0) return errnoStatus("fcntl");
  *direct = false;
  return arrow::Status::OK();
}

// Aligned memory owned by an arrow::Buffer.
class AlignedBuffer : public arrow::Buffer {
 public:
  AlignedBuffer(uint8_t* p, int64_t n) : arrow::Buffer(p, n), memory_(p) {}
  ~AlignedBuffer() override { std::free(memory_); }

 private:
  uint8_t* memory_;
};

class DirectOutputStream : public arrow::io::OutputStream {
 public:
  static arrow::Result<std::shared_ptr<arrow::io::OutputStream>> Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0644);
    if (fd < 0) return arrow::io::FileOutputStream::Open(path);
    void* buffer = nullptr;
    if (posix_memalign(&buffer, kDirectAlign, kDirectBuffer) != 0) {
      ::close(fd);
      return arrow::io::FileOutputStream::Open(path);
    }
    return std::shared_ptr<arrow::io::OutputStream>(new DirectOutputStream(fd, static_cast<uint8_t*>(buffer)));
  }

  ~DirectOutputStream() override {
    if (fd_ >= 0) (void)Close();
    std::free(buffer_);
  }

  arrow::Status Write(const void* data, int64_t nbytes) override {
    if (fd_ < 0) return arrow::Status::Invalid("write to a closed file");
    auto p = static_cast<const uint8_t*>(data);
    while (nbytes > 0) {
      int64_t k = std::min(nbytes, kDirectBuffer - used_);
      std::memcpy(buffer_ + used_, p, static_cast<size_t>(k));
      used_ += k;
      p += k;
      nbytes -= k;
      position_ += k;
      if (used_ == kDirectBuffer) ARROW_RETURN_NOT_OK(WriteBuffer(kDirectBuffer));
    }
    return arrow::Status::OK();
  }

  // The data reaches the disk block by block; a partial block only at Close (the caller
  // fsyncs the closed file where it needs durability).
  arrow::Status Flush() override { return arrow::Status::OK(); }

  arrow::Status Close() override {
    if (fd_ < 0) return arrow::Status::OK();
    arrow::Status st = arrow::Status::OK();
    if (used_ > 0) {
      int64_t padded = direct_ ? (used_ + kDirectAlign - 1) / kDirectAlign * kDirectAlign : used_;
      std::memset(buffer_ + used_, 0, static_cast<size_t>(padded - used_));
      st = WriteBuffer(padded);
      if (st.ok() && ftruncate(fd_, position_) != 0) st = errnoStatus("ftruncate");
    }
    if (::close(fd_) != 0 && st.ok()) st = errnoStatus("close");
    fd_ = -1;
    return st;
  }

  bool closed() const override { return fd_ < 0; }
  arrow::Result<int64_t> Tell() const override { return position_; }

 private:
  DirectOutputStream(int fd, uint8_t* buffer) : fd_(fd), buffer_(buffer) {}

  arrow::Status WriteBuffer(int64_t n) {
    int64_t done = 0;
    while (done < n) {
      ssize_t w = ::pwrite(fd_, buffer_ + done, static_cast<size_t>(n - done), offset_ + done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EINVAL && direct_ && done == 0) {
        // The file system opened the file with O_DIRECT but refuses the write: ordinary I/O.
        ARROW_RETURN_NOT_OK(dropDirect(fd_, &direct_));
        continue;
      }
      if (w <= 0) return errnoStatus("write");
      done += w;
    }
    offset_ += n;
    used_ = 0;
    return arrow::Status::OK();
  }

  int fd_;
  uint8_t* buffer_;
  int64_t used_ = 0;
  int64_t position_ = 0;
  int64_t offset_ = 0;
  bool direct_ = true;
};

class DirectReadableFile : public arrow::io::RandomAccessFile {
 public:
  static arrow::Result<std::shared_ptr<arrow::io::RandomAccessFile>> Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
    if (fd < 0) return arrow::io::ReadableFile::Open(path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
      ::close(fd);
      return errnoStatus("fstat");
    }
    return std::shared_ptr<arrow::io::RandomAccessFile>(new DirectReadableFile(fd, st.st_size));
  }

  ~DirectReadableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  arrow::Status Close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return arrow::Status::OK();
  }
  bool closed() const override { return fd_ < 0; }
  arrow::Result<int64_t> Tell() const override { return position_; }
  arrow::Status Seek(int64_t position) override {
    if (position < 0) return arrow::Status::Invalid("negative position");
    position_ = position;
    return arrow::Status::OK();
  }
  arrow::Result<int64_t> GetSize() override { return size_; }

  arrow::Result<int64_t> Read(int64_t nbytes, void* out) override {
    ARROW_ASSIGN_OR_RAISE(int64_t n, ReadAt(position_, nbytes, out));
    position_ += n;
    return n;
  }
  arrow::Result<std::shared_ptr<arrow::Buffer>> Read(int64_t nbytes) override {
    ARROW_ASSIGN_OR_RAISE(auto b, ReadAt(position_, nbytes));
    position_ += b->size();
    return b;
  }
  arrow::Result<int64_t> ReadAt(int64_t position, int64_t nbytes, void* out) override {
    ARROW_ASSIGN_OR_RAISE(auto b, ReadAt(position, nbytes));
    std::memcpy(out, b->data(), static_cast<size_t>(b->size()));
    return b->size();
  }
  arrow::Result<std::shared_ptr<arrow::Buffer>> ReadAt(int64_t position, int64_t nbytes) override {
    if (fd_ < 0) return arrow::Status::Invalid("read from a closed file");
    if (position < 0 || nbytes < 0) return arrow::Status::Invalid("negative position or length");
    nbytes = std::max<int64_t>(0, std::min(nbytes, size_ - position));
    int64_t start = position / kDirectAlign * kDirectAlign;
    int64_t end = (position + nbytes + kDirectAlign - 1) / kDirectAlign * kDirectAlign;
    void* memory = nullptr;
    if (posix_memalign(&memory, kDirectAlign, static_cast<size_t>(std::max<int64_t>(end - start, kDirectAlign))) != 0) {
      return arrow::Status::OutOfMemory("direct read buffer");
    }
    auto buffer = std::make_shared<AlignedBuffer>(static_cast<uint8_t*>(memory), end - start);
    int64_t need = position + nbytes - start, got = 0;
    while (got < need) {
      ssize_t r = ::pread(fd_, static_cast<uint8_t*>(memory) + got, static_cast<size_t>(end - start - got), start + got);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && errno == EINVAL && direct_ && got == 0) {
        ARROW_RETURN_NOT_OK(dropDirect(fd_, &direct_));
        continue;
      }
      if (r < 0) return errnoStatus("read");
      if (r == 0) return arrow::Status::IOError("the file ended early (", got + start, " of ", position + nbytes, " bytes)");
      got += r;
    }
    return arrow::SliceBuffer(buffer, position - start, nbytes);
  }

 private:
  DirectReadableFile(int fd, int64_t size) : fd_(fd), size_(size) {}
  int fd_;
  int64_t size_;
  int64_t position_ = 0;
  bool direct_ = true;
};

arrow::Result<std::shared_ptr<arrow::io::OutputStream>> openOutput(const char* path, int direct) {
  if (direct) return DirectOutputStream::Open(path);
  ARROW_ASSIGN_OR_RAISE(auto f, arrow::io::FileOutputStream::Open(path));
  return std::static_pointer_cast<arrow::io::OutputStream>(f);
}

char* dup(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = 0;
  return p;
}

int fail(char** error, const arrow::Status& st) {
  if (error) *error = dup(st.ToString());
  int e = arrow::internal::ErrnoFromStatus(st);
  return e > 0 ? AP_ERRNO_BASE + e : 1;
}

int fail(char** error, const std::string& msg) {
  if (error) *error = dup(msg);
  return 1;
}

#define AP_TRY(expr)                         \
  do {                                       \
    arrow::Status _st = (expr);              \
    if (!_st.ok()) return fail(error, _st);  \
  } while (0)

#define AP_CAT2(a, b) a##b
#define AP_CAT(a, b) AP_CAT2(a, b)
#define AP_ASSIGN(lhs, rexpr) AP_ASSIGN_IMPL(AP_CAT(_res_, __LINE__), lhs, rexpr)
#define AP_ASSIGN_IMPL(tmp, lhs, rexpr)                    \
  auto&& tmp = (rexpr);                                    \
  if (!tmp.ok()) return fail(error, tmp.status());         \
  lhs = std::move(tmp).ValueOrDie();

struct InvalidRowRecord {
  int64_t line;
  int32_t expected;
  int32_t actual;
  std::string text;
};

}  // namespace

// Dictionary-encoded columns (pandas categoricals) are handed over decoded, as their value type.
std::shared_ptr<arrow::Schema> decoded_schema(const std::shared_ptr<arrow::Schema>& s) {
  arrow::FieldVector fields;
  bool changed = false;
  for (const auto& f : s->fields()) {
    if (f->type()->id() == arrow::Type::DICTIONARY) {
      fields.push_back(f->WithType(std::static_pointer_cast<arrow::DictionaryType>(f->type())->value_type()));
      changed = true;
    } else {
      fields.push_back(f);
    }
  }
  return changed ? arrow::schema(fields, s->metadata()) : s;
}

arrow::Result<std::shared_ptr<arrow::RecordBatch>> decoded_batch(const std::shared_ptr<arrow::RecordBatch>& b,
                                                                 const std::shared_ptr<arrow::Schema>& target) {
  if (target.get() == b->schema().get() || target->Equals(*b->schema())) return b;
  std::vector<std::shared_ptr<arrow::Array>> columns;
  for (int i = 0; i < b->num_columns(); ++i) {
    auto col = b->column(i);
    if (col->type()->id() == arrow::Type::DICTIONARY) {
      ARROW_ASSIGN_OR_RAISE(arrow::Datum d, arrow::compute::Cast(col, target->field(i)->type()));
      columns.push_back(d.make_array());
    } else {
      columns.push_back(col);
    }
  }
  return arrow::RecordBatch::Make(target, b->num_rows(), columns);
}

struct ap_reader {
  std::shared_ptr<arrow::util::Codec> codec;            // a compressed CSV's codec, must outlive `batches`
  std::unique_ptr<parquet::arrow::FileReader> parquet;  // must outlive `batches`
  std::shared_ptr<arrow::RecordBatchReader> batches;
  std::shared_ptr<arrow::Schema> schema;  // as handed over (dictionaries decoded)
  std::shared_ptr<std::vector<InvalidRowRecord>> invalid = std::make_shared<std::vector<InvalidRowRecord>>();
};

struct ap_ipc_writer {
  std::shared_ptr<arrow::io::OutputStream> sink;
  std::shared_ptr<arrow::ipc::RecordBatchWriter> writer;
  std::shared_ptr<arrow::Schema> schema;
};

struct ap_ipc_file {
  std::shared_ptr<arrow::io::RandomAccessFile> file;
  std::shared_ptr<arrow::ipc::RecordBatchFileReader> reader;
};

struct ap_table {
  // The batches combined once into contiguous columns: Take on a chunked table would
  // concatenate every chunk again on each call.
  std::shared_ptr<arrow::RecordBatch> batch;
};

struct ap_parquet_writer {
  std::shared_ptr<arrow::io::OutputStream> sink;
  std::unique_ptr<parquet::arrow::FileWriter> writer;
  std::shared_ptr<arrow::Schema> schema;
};

extern "C" {

void ap_string_free(char* s) { std::free(s); }

const char* ap_arrow_version(void) { return ARROW_VERSION_STRING; }

int ap_parquet_reader_open(const char* path, const char* const* columns, int n_columns, const int* row_groups,
                           int n_row_groups, int64_t batch_rows, ap_reader** out, struct ArrowSchema* schema_out,
                           int64_t* num_rows, char** error) {
  try {
    parquet::ArrowReaderProperties props;
    props.set_batch_size(batch_rows > 0 ? batch_rows : 65536);
    props.set_use_threads(false);
    // Pre-buffering coalesces the column chunks' reads, issued on Arrow's I/O pool: worth it for
    // large files; for a small one (a project's per-source products) the hand-off to that pool
    // costs more than the reads, so it is read in place.
    struct stat file_stat;
    props.set_pre_buffer(!(::stat(path, &file_stat) == 0 && file_stat.st_size < (4 << 20)));
    parquet::ReaderProperties rprops = parquet::default_reader_properties();
    rprops.enable_buffered_stream();
    parquet::arrow::FileReaderBuilder builder;
    AP_TRY(builder.OpenFile(path, /*memory_map=*/false, rprops));
    builder.properties(props);
    std::unique_ptr<parquet::arrow::FileReader> reader;
    AP_TRY(builder.Build(&reader));
    std::shared_ptr<arrow::Schema> full;
    AP_TRY(reader->GetSchema(&full));
    std::vector<int> leaves;
    std::vector<int> fields;
    if (columns && n_columns > 0) {
      const auto& manifest = reader->manifest();
      for (int c = 0; c < n_columns; ++c) {
        int idx = full->GetFieldIndex(columns[c]);
        if (idx < 0) return fail(error, std::string("no column '") + columns[c] + "' in " + path);
        fields.push_back(idx);
        std::vector<const parquet::arrow::SchemaField*> stack{&manifest.schema_fields[idx]};
        while (!stack.empty()) {
          auto* f = stack.back();
          stack.pop_back();
          if (f->is_leaf()) leaves.push_back(f->column_index);
          for (auto it = f->children.rbegin(); it != f->children.rend(); ++it) stack.push_back(&*it);
        }
      }
      std::sort(leaves.begin(), leaves.end());
    } else {
      int n = reader->parquet_reader()->metadata()->num_columns();
      for (int i = 0; i < n; ++i) leaves.push_back(i);
    }
    std::vector<int> groups;
    auto metadata = reader->parquet_reader()->metadata();
    int64_t selected_rows = 0;
    if (row_groups) {
      for (int i = 0; i < n_row_groups; ++i) {
        if (row_groups[i] < 0 || row_groups[i] >= reader->num_row_groups())
          return fail(error, std::string(path) + ": no row group " + std::to_string(row_groups[i]));
        groups.push_back(row_groups[i]);
        selected_rows += metadata->RowGroup(row_groups[i])->num_rows();
      }
    } else {
      groups.resize(reader->num_row_groups());
      for (size_t i = 0; i < groups.size(); ++i) groups[i] = static_cast<int>(i);
      selected_rows = metadata->num_rows();
    }
    AP_ASSIGN(std::unique_ptr<arrow::RecordBatchReader> rb, reader->GetRecordBatchReader(groups, leaves));
    auto handle = new ap_reader();
    handle->batches = std::shared_ptr<arrow::RecordBatchReader>(std::move(rb));
    handle->parquet = std::move(reader);
    if (num_rows) *num_rows = selected_rows;
    handle->schema = decoded_schema(handle->batches->schema());
    auto st = arrow::ExportSchema(*handle->schema, schema_out);
    if (!st.ok()) { delete handle; return fail(error, st); }
    *out = handle;
    return 0;
  } catch (const std::exception& e) {
    return fail(error, std::string(path) + ": " + e.what());
  }
}

int ap_csv_reader_open(const char* path, const ap_csv_options* options, ap_reader** out,
                       struct ArrowSchema* schema_out, char** error) {
  try {
    auto handle = std::make_unique<ap_reader>();
    std::shared_ptr<arrow::io::InputStream> input;
    AP_ASSIGN(auto file, arrow::io::ReadableFile::Open(path));
    input = file;
    if (options->compression != 0) {
      auto type = options->compression == 1 ? arrow::Compression::GZIP : arrow::Compression::BZ2;
      AP_ASSIGN(handle->codec, arrow::util::Codec::Create(type));
      AP_ASSIGN(input, arrow::io::CompressedInputStream::Make(handle->codec.get(), input));
    }
    auto read = arrow::csv::ReadOptions::Defaults();
    read.use_threads = false;
    if (options->block_size > 0) read.block_size = static_cast<int32_t>(options->block_size);
    if (options->column_names && options->n_column_names > 0) {
      for (int i = 0; i < options->n_column_names; ++i) read.column_names.emplace_back(options->column_names[i]);
      if (options->has_header) read.skip_rows = 1;
    } else if (!options->has_header) {
      read.autogenerate_column_names = true;
    }
    auto parse = arrow::csv::ParseOptions::Defaults();
    parse.delimiter = options->delimiter ? options->delimiter : ',';
    if (options->skip_invalid_rows) {
      auto log = handle->invalid;
      parse.invalid_row_handler = [log](const arrow::csv::InvalidRow& row) {
        log->push_back({row.number, row.expected_columns, row.actual_columns, std::string(row.text)});
        return arrow::csv::InvalidRowResult::Skip;
      };
    }
    auto convert = arrow::csv::ConvertOptions::Defaults();
    for (int i = 0; options->include_columns && i < options->n_include_columns; ++i) {
      convert.include_columns.emplace_back(options->include_columns[i]);
    }
    if (options->column_types) {
      AP_ASSIGN(std::shared_ptr<arrow::Schema> types, arrow::ImportSchema(options->column_types));
      for (const auto& f : types->fields()) convert.column_types[f->name()] = f->type();
    }
    AP_ASSIGN(auto reader, arrow::csv::StreamingReader::Make(arrow::io::default_io_context(), input, read, parse, convert));
    handle->batches = reader;
    handle->schema = decoded_schema(reader->schema());
    AP_TRY(arrow::ExportSchema(*handle->schema, schema_out));
    *out = handle.release();
    return 0;
  } catch (const std::exception& e) {
    return fail(error, std::string(path) + ": " + e.what());
  }
}

int ap_reader_next(ap_reader* reader, struct ArrowArray* out, int* end, char** error) {
  try {
    std::shared_ptr<arrow::RecordBatch> batch;
    AP_TRY(reader->batches->ReadNext(&batch));
    if (!batch) { *end = 1; return 0; }
    *end = 0;
    AP_ASSIGN(batch, decoded_batch(batch, reader->schema));
    AP_TRY(arrow::ExportRecordBatch(*batch, out));
    return 0;
  } catch (const std::exception& e) {
    return fail(error, e.what());
  }
}

int64_t ap_reader_invalid_count(ap_reader* reader) { return static_cast<int64_t>(reader->invalid->size()); }

void ap_reader_invalid_row(ap_reader* reader, int64_t i, int64_t* line, int32_t* expected, int32_t* actual, char** text) {
  const auto& r = (*reader->invalid)[static_cast<size_t>(i)];
  *line = r.line;
  *expected = r.expected;
  *actual = r.actual;
  *text = dup(r.text);
}

void ap_reader_free(ap_reader* reader) {
  if (!reader) return;
  reader->batches.reset();
  reader->parquet.reset();
  delete reader;
}

int ap_ipc_writer_open(const char* path, struct ArrowSchema* schema, int direct, ap_ipc_writer** out, char** error) {
  AP_ASSIGN(std::shared_ptr<arrow::Schema> s, arrow::ImportSchema(schema));
  AP_ASSIGN(auto sink, openOutput(path, direct));
  AP_ASSIGN(auto writer, arrow::ipc::MakeFileWriter(sink, s, arrow::ipc::IpcWriteOptions::Defaults()));
  *out = new ap_ipc_writer{sink, writer, s};
  return 0;
}

int ap_ipc_writer_write(ap_ipc_writer* w, struct ArrowArray* batch, char** error) {
  AP_ASSIGN(auto b, arrow::ImportRecordBatch(batch, w->schema));
  AP_TRY(w->writer->WriteRecordBatch(*b));
  return 0;
}

int ap_ipc_writer_close(ap_ipc_writer* w, char** error) {
  AP_TRY(w->writer->Close());
  AP_TRY(w->sink->Close());
  return 0;
}

void ap_ipc_writer_free(ap_ipc_writer* w) { delete w; }

struct ap_csv_writer {
  std::shared_ptr<arrow::io::OutputStream> sink;
  std::shared_ptr<arrow::ipc::RecordBatchWriter> writer;
  std::shared_ptr<arrow::Schema> schema;
};

int ap_csv_writer_open(const char* path, struct ArrowSchema* schema, ap_csv_writer** out, char** error) {
  try {
    AP_ASSIGN(std::shared_ptr<arrow::Schema> s, arrow::ImportSchema(schema));
    std::shared_ptr<arrow::io::OutputStream> sink;
    if (path) {
      AP_ASSIGN(sink, arrow::io::FileOutputStream::Open(path));
    } else {
      int fd = dup(1);
      if (fd < 0) return fail(error, "cannot duplicate standard output");
      AP_ASSIGN(sink, arrow::io::FileOutputStream::Open(fd));
    }
    AP_ASSIGN(auto writer, arrow::csv::MakeCSVWriter(sink, s, arrow::csv::WriteOptions::Defaults()));
    *out = new ap_csv_writer{sink, writer, s};
    return 0;
  } catch (const std::exception& e) {
    return fail(error, e.what());
  }
}

int ap_csv_writer_write(ap_csv_writer* w, struct ArrowArray* batch, char** error) {
  AP_ASSIGN(auto b, arrow::ImportRecordBatch(batch, w->schema));
  AP_TRY(w->writer->WriteRecordBatch(*b));
  return 0;
}

int ap_csv_writer_close(ap_csv_writer* w, char** error) {
  AP_TRY(w->writer->Close());
  AP_TRY(w->sink->Close());
  return 0;
}

void ap_csv_writer_free(ap_csv_writer* w) { delete w; }

int ap_ipc_file_open(const char* path, int direct, ap_ipc_file** out, struct ArrowSchema* schema_out, int* num_batches,
                     char** error) {
  // Plain reads rather than a memory map: mapped pages would count against the process's RSS
  // for as long as the run stays open, and the import promises RSS bounded by --memory.
  std::shared_ptr<arrow::io::RandomAccessFile> file;
  if (direct) {
    AP_ASSIGN(file, DirectReadableFile::Open(path));
  } else {
    AP_ASSIGN(file, arrow::io::ReadableFile::Open(path));
  }
  AP_ASSIGN(auto reader, arrow::ipc::RecordBatchFileReader::Open(file));
  AP_TRY(arrow::ExportSchema(*reader->schema(), schema_out));
  *num_batches = reader->num_record_batches();
  *out = new ap_ipc_file{file, reader};
  return 0;
}

int ap_ipc_file_read(ap_ipc_file* f, int index, struct ArrowArray* out, char** error) {
  AP_ASSIGN(auto batch, f->reader->ReadRecordBatch(index));
  AP_TRY(arrow::ExportRecordBatch(*batch, out));
  return 0;
}

void ap_ipc_file_free(ap_ipc_file* f) { delete f; }

int ap_parquet_writer_open(const char* path, struct ArrowSchema* schema, const ap_parquet_write_options* o,
                           ap_parquet_writer** out, char** error) {
  try {
    AP_ASSIGN(std::shared_ptr<arrow::Schema> s, arrow::ImportSchema(schema));
    AP_ASSIGN(auto sink, openOutput(path, o->direct_io));
    parquet::WriterProperties::Builder b;
    arrow::Compression::type codec = arrow::Compression::UNCOMPRESSED;
    switch (o->compression) {
      case 1: codec = arrow::Compression::SNAPPY; break;
      case 2: codec = arrow::Compression::ZSTD; break;
      case 3: codec = arrow::Compression::GZIP; break;
      case 4: codec = arrow::Compression::LZ4; break;
      default: break;
    }
    b.compression(codec);
    if (o->compression_level > 0) b.compression_level(o->compression_level);
    if (o->row_group_rows > 0) b.max_row_group_length(o->row_group_rows);
    if (o->write_statistics) b.enable_statistics(); else b.disable_statistics();
    if (o->sorted_by_first_column) b.set_sorting_columns({parquet::SortingColumn{0, false, false}});
    b.created_by("AstroPile (parquet-cpp-arrow " ARROW_VERSION_STRING ")");
    // Dictionary encoding of measured floating-point values almost never pays (every value is
    // distinct): the writer builds a dictionary page, overflows it and falls back to PLAIN.
    // The same holds for 64-bit integers (ids, _healpix_29, bit masks): nearly all distinct.
    // Binary values (image cutouts, stamps) are distinct too, and hashing tens of KB per value for
    // a dictionary that then overflows costs more than writing them. Nested leaves count as well,
    // by their Parquet paths (`a.b` in structs, `a.list.element` in lists).
    std::function<void(const std::string&, const std::shared_ptr<arrow::Field>&)> plain =
        [&](const std::string& prefix, const std::shared_ptr<arrow::Field>& f) {
      const auto& t = f->type();
      auto id = t->id();
      std::string path = prefix + f->name();
      if (id == arrow::Type::STRUCT) {
        for (const auto& c : t->fields()) plain(path + ".", c);
      } else if (id == arrow::Type::LIST || id == arrow::Type::LARGE_LIST) {
        plain(path + ".list.", std::make_shared<arrow::Field>("element", t->field(0)->type()));
      } else if (arrow::is_floating(id) || id == arrow::Type::INT64 || id == arrow::Type::UINT64 ||
                 id == arrow::Type::BINARY || id == arrow::Type::LARGE_BINARY) {
        b.disable_dictionary(path);
      }
    };
    for (const auto& f : s->fields()) plain("", f);
    parquet::ArrowWriterProperties::Builder ab;
    ab.store_schema();
    AP_ASSIGN(auto writer, parquet::arrow::FileWriter::Open(*s, arrow::default_memory_pool(), sink, b.build(), ab.build()));
    *out = new ap_parquet_writer{sink, std::move(writer), s};
    return 0;
  } catch (const std::exception& e) {
    return fail(error, std::string(path) + ": " + e.what());
  }
}

int ap_parquet_writer_write(ap_parquet_writer* w, struct ArrowArray* batch, char** error) {
  try {
    AP_ASSIGN(auto b, arrow::ImportRecordBatch(batch, w->schema));
    AP_TRY(w->writer->WriteRecordBatch(*b));
    return 0;
  } catch (const std::exception& e) {
    return fail(error, e.what());
  }
}

int ap_parquet_writer_close(ap_parquet_writer* w, char** error) {
  try {
    AP_TRY(w->writer->Close());
    AP_TRY(w->sink->Close());
    return 0;
  } catch (const std::exception& e) {
    return fail(error, e.what());
  }
}

void ap_parquet_writer_free(ap_parquet_writer* w) { delete w; }

int ap_parquet_write_dataset_metadata(const char* const* leaf_paths, const char* const* relative_paths, int n,
                                      struct ArrowSchema* schema, const char* metadata_path,
                                      const char* common_metadata_path, char** error) {
  try {
    AP_ASSIGN(std::shared_ptr<arrow::Schema> s, arrow::ImportSchema(schema));
    std::shared_ptr<parquet::SchemaDescriptor> descr;
    auto props = parquet::default_writer_properties();
    auto aprops = parquet::ArrowWriterProperties::Builder().store_schema()->build();
    if (common_metadata_path) {
      AP_ASSIGN(auto sink, arrow::io::FileOutputStream::Open(common_metadata_path));
      std::unique_ptr<parquet::arrow::FileWriter> w;
      AP_ASSIGN(w, parquet::arrow::FileWriter::Open(*s, arrow::default_memory_pool(), sink, props, aprops));
      AP_TRY(w->Close());
      AP_TRY(sink->Close());
    }
    if (metadata_path) {
      std::shared_ptr<parquet::FileMetaData> combined;
      for (int i = 0; i < n; ++i) {
        AP_ASSIGN(auto file, arrow::io::ReadableFile::Open(leaf_paths[i]));
        auto reader = parquet::ParquetFileReader::Open(file);
        auto md = reader->metadata();
        md->set_file_path(relative_paths[i]);
        if (!combined) {
          combined = md;
        } else {
          combined->AppendRowGroups(*md);
        }
      }
      AP_ASSIGN(auto sink, arrow::io::FileOutputStream::Open(metadata_path));
      if (combined) {
        AP_TRY(parquet::arrow::WriteMetaDataFile(*combined, sink.get()));
      } else {
        std::unique_ptr<parquet::arrow::FileWriter> w;
        AP_ASSIGN(w, parquet::arrow::FileWriter::Open(*s, arrow::default_memory_pool(), sink, props, aprops));
        AP_TRY(w->Close());
      }
      AP_TRY(sink->Close());
    }
    return 0;
  } catch (const std::exception& e) {
    return fail(error, e.what());
  }
}

int ap_parquet_file_info(const char* path, int64_t* num_rows, int* num_row_groups, struct ArrowSchema* schema_out,
                         char** error) {
  try {
    parquet::arrow::FileReaderBuilder builder;
    AP_TRY(builder.OpenFile(path));
    std::unique_ptr<parquet::arrow::FileReader> reader;
    AP_TRY(builder.Build(&reader));
    std::shared_ptr<arrow::Schema> s;
    AP_TRY(reader->GetSchema(&s));
    *num_rows = reader->parquet_reader()->metadata()->num_rows();
    *num_row_groups = reader->num_row_groups();
    AP_TRY(arrow::ExportSchema(*s, schema_out));
    return 0;
  } catch (const std::exception& e) {
    return fail(error, std::string(path) + ": " + e.what());
  }
}

int ap_table_make(struct ArrowSchema* schema, struct ArrowArray* batches, int n_batches, ap_table** out, char** error) {
  try {
    std::shared_ptr<arrow::Schema> s;
    {
      auto r = arrow::ImportSchema(schema);
      if (!r.ok()) {
        for (int i = 0; i < n_batches; ++i) if (batches[i].release) batches[i].release(&batches[i]);
        return fail(error, r.status());
      }
      s = *r;
    }
    arrow::RecordBatchVector imported;
    for (int i = 0; i < n_batches; ++i) {
      auto r = arrow::ImportRecordBatch(&batches[i], s);
      if (!r.ok()) {
        for (int j = i + 1; j < n_batches; ++j) if (batches[j].release) batches[j].release(&batches[j]);
        return fail(error, r.status());
      }
      imported.push_back(*r);
    }
    std::shared_ptr<arrow::RecordBatch> combined;
    if (imported.size() == 1) {
      combined = imported[0];
    } else if (imported.empty()) {
      AP_ASSIGN(combined, arrow::RecordBatch::MakeEmpty(s));
    } else {
      AP_ASSIGN(combined, arrow::ConcatenateRecordBatches(imported));
    }
    *out = new ap_table{combined};
    return 0;
  } catch (const std::exception& e) {
    return fail(error, e.what());
  }
}

int ap_table_take(ap_table* t, const int64_t* indices, int64_t n_indices, struct ArrowArray* out, char** error) {
  try {
    auto buffer = arrow::Buffer::Wrap(indices, n_indices);
    auto idx = std::make_shared<arrow::Int64Array>(n_indices, buffer);
    AP_ASSIGN(arrow::Datum taken, arrow::compute::Take(arrow::Datum(t->batch), arrow::Datum(idx),
                                                       arrow::compute::TakeOptions::NoBoundsCheck()));
    AP_TRY(arrow::ExportRecordBatch(*taken.record_batch(), out));
    return 0;
  } catch (const std::exception& e) {
    return fail(error, e.what());
  }
}

int ap_table_take_or_null(ap_table* t, const int64_t* indices, int64_t n_indices, struct ArrowArray* out,
                          char** error) {
  try {
    arrow::Int64Builder builder;
    AP_TRY(builder.Reserve(n_indices));
    for (int64_t i = 0; i < n_indices; ++i) {
      if (indices[i] < 0) builder.UnsafeAppendNull(); else builder.UnsafeAppend(indices[i]);
    }
    AP_ASSIGN(std::shared_ptr<arrow::Array> idx, builder.Finish());
    AP_ASSIGN(arrow::Datum taken, arrow::compute::Take(arrow::Datum(t->batch), arrow::Datum(idx),
                                                       arrow::compute::TakeOptions::NoBoundsCheck()));
    AP_TRY(arrow::ExportRecordBatch(*taken.record_batch(), out));
    return 0;
  } catch (const std::exception& e) {
    return fail(error, e.what());
  }
}

void ap_table_free(ap_table* t) { delete t; }

int ap_parquet_row_group_stats(const char* path, const char* column, int capacity, int* n_groups, int* kind,
                               int64_t* mins, int64_t* maxs, int64_t* rows, char** error) {
  try {
    std::unique_ptr<parquet::ParquetFileReader> file = parquet::ParquetFileReader::OpenFile(path, false);
    auto metadata = file->metadata();
    const parquet::SchemaDescriptor* schema = metadata->schema();
    int col = schema->ColumnIndex(column);
    if (col < 0) return fail(error, std::string("no column '") + column + "' in " + path);
    *n_groups = metadata->num_row_groups();
    *kind = 2;
    if (*n_groups > capacity) return 0;
    auto physical = schema->Column(col)->physical_type();
    int k = (physical == parquet::Type::INT32 || physical == parquet::Type::INT64) ? 0
          : (physical == parquet::Type::FLOAT || physical == parquet::Type::DOUBLE) ? 1 : 2;
    if (k == 2) return 0;
    for (int g = 0; g < *n_groups; ++g) {
      auto rg = metadata->RowGroup(g);
      rows[g] = rg->num_rows();
      auto chunk = rg->ColumnChunk(col);
      auto stats = chunk->statistics();
      if (!stats || !stats->HasMinMax()) return 0;
      switch (physical) {
        case parquet::Type::INT32: {
          auto s = std::static_pointer_cast<parquet::Int32Statistics>(stats);
          mins[g] = s->min(); maxs[g] = s->max(); break;
        }
        case parquet::Type::INT64: {
          auto s = std::static_pointer_cast<parquet::Int64Statistics>(stats);
          mins[g] = s->min(); maxs[g] = s->max(); break;
        }
        case parquet::Type::FLOAT: {
          auto s = std::static_pointer_cast<parquet::FloatStatistics>(stats);
          double a = s->min(), b = s->max();
          std::memcpy(&mins[g], &a, 8); std::memcpy(&maxs[g], &b, 8); break;
        }
        default: {
          auto s = std::static_pointer_cast<parquet::DoubleStatistics>(stats);
          double a = s->min(), b = s->max();
          std::memcpy(&mins[g], &a, 8); std::memcpy(&maxs[g], &b, 8); break;
        }
      }
    }
    *kind = k;
    return 0;
  } catch (const std::exception& e) {
    return fail(error, std::string(path) + ": " + e.what());
  }
}

int ap_cast_batch(struct ArrowSchema* schema, struct ArrowArray* batch, struct ArrowSchema* target,
                  struct ArrowArray* out, char** error) {
  try {
    AP_ASSIGN(std::shared_ptr<arrow::Schema> s, arrow::ImportSchema(schema));
    AP_ASSIGN(std::shared_ptr<arrow::Schema> t, arrow::ImportSchema(target));
    AP_ASSIGN(auto b, arrow::ImportRecordBatch(batch, s));
    std::vector<std::shared_ptr<arrow::Array>> columns;
    for (const auto& f : t->fields()) {
      auto col = b->GetColumnByName(f->name());
      if (!col) {
        AP_ASSIGN(auto nulls, arrow::MakeArrayOfNull(f->type(), b->num_rows()));
        columns.push_back(nulls);
      } else if (col->type()->Equals(*f->type())) {
        columns.push_back(col);
      } else {
        AP_ASSIGN(arrow::Datum c, arrow::compute::Cast(col, f->type()));
        columns.push_back(c.make_array());
      }
    }
    auto result = arrow::RecordBatch::Make(t, b->num_rows(), columns);
    AP_TRY(arrow::ExportRecordBatch(*result, out));
    return 0;
  } catch (const std::exception& e) {
    return fail(error, e.what());
  }
}

int ap_decompress_file(const char* src, const char* dst, int compression, char** error) {
  try {
    AP_ASSIGN(auto file, arrow::io::ReadableFile::Open(src));
    auto type = compression == 1 ? arrow::Compression::GZIP : arrow::Compression::BZ2;
    AP_ASSIGN(std::shared_ptr<arrow::util::Codec> codec, arrow::util::Codec::Create(type));
    AP_ASSIGN(auto input, arrow::io::CompressedInputStream::Make(codec.get(), file));
    AP_ASSIGN(auto sink, arrow::io::FileOutputStream::Open(dst));
    while (true) {
      AP_ASSIGN(auto chunk, input->Read(4 << 20));
      if (chunk->size() == 0) break;
      AP_TRY(sink->Write(chunk));
    }
    AP_TRY(input->Close());
    AP_TRY(sink->Close());
    return 0;
  } catch (const std::exception& e) {
    return fail(error, std::string(src) + ": " + e.what());
  }
}

}  // extern "C"
