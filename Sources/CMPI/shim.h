#ifndef ASTROPILE_MPI_SHIM_H
#define ASTROPILE_MPI_SHIM_H
// Open MPI (Debian libopenmpi-dev). MPI_COMM_WORLD, MPI_INT64_T, MPI_SUM, MPI_MAX, MPI_BYTE and
// MPI_REQUEST_NULL are macros over link-time globals that Swift cannot import, so AstroPile calls
// MPI through these few functions on COMM_WORLD only (RunEngine/Cluster/Cluster.swift wraps them).
// Every function returns an MPI error code (MPI_SUCCESS = 0); requests are opaque handles.
#include <mpi.h>
#include <stdint.h>

/// Initialises MPI for a process whose MPI calls come from one thread at a time; `provided` is
/// the thread level granted. COMM_WORLD returns errors instead of aborting.
static inline int ap_mpi_init(int *provided) {
    int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
    if (rc != MPI_SUCCESS) return rc;
    return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}
static inline int ap_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int ap_mpi_finalize(void) { return MPI_Finalize(); }
static inline int ap_mpi_is_finalized(void) { int f = 0; MPI_Finalized(&f); return f; }
static inline int ap_mpi_rank(int *rank) { return MPI_Comm_rank(MPI_COMM_WORLD, rank); }
static inline int ap_mpi_size(int *size) { return MPI_Comm_size(MPI_COMM_WORLD, size); }
static inline int ap_mpi_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }

/// The library's message for an error code (into `buffer`, at least MPI_MAX_ERROR_STRING bytes).
static inline int ap_mpi_error_string(int code, char *buffer, int capacity) {
    if (capacity < MPI_MAX_ERROR_STRING) return -1;
    int length = 0;
    MPI_Error_string(code, buffer, &length);
    buffer[length < capacity ? length : capacity - 1] = 0;
    return 0;
}
static inline int ap_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }

/// Non-blocking collectives, each completed by ap_mpi_test (so a caller can time out).
static inline int ap_mpi_ibarrier(void **request) {
    return MPI_Ibarrier(MPI_COMM_WORLD, (MPI_Request *)request);
}
/// `op`: 0 sum, 1 max, 2 min; in place over `count` int64 values.
static inline int ap_mpi_iallreduce_int64(int64_t *values, int count, int op, void **request) {
    MPI_Op o = op == 1 ? MPI_MAX : op == 2 ? MPI_MIN : MPI_SUM;
    return MPI_Iallreduce(MPI_IN_PLACE, values, count, MPI_INT64_T, o, MPI_COMM_WORLD, (MPI_Request *)request);
}
static inline int ap_mpi_ibcast_bytes(void *bytes, int count, int root, void **request) {
    return MPI_Ibcast(bytes, count, MPI_BYTE, root, MPI_COMM_WORLD, (MPI_Request *)request);
}
/// `done` is set to 1 when the request completed (the request is then freed).
static inline int ap_mpi_test(void **request, int *done) {
    return MPI_Test((MPI_Request *)request, done, MPI_STATUS_IGNORE);
}
static inline void *ap_mpi_request_null(void) { return (void *)MPI_REQUEST_NULL; }
#endif
