#ifndef ASTROPILE_HDF5_SHIM_H
#define ASTROPILE_HDF5_SHIM_H
#include <hdf5.h>
#include <string.h>

// HDF5's type and property-list "constants" are macros that call H5open() and read a global;
// Swift cannot import them, so each is a one-line function here.
static inline hid_t ap_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t ap_h5s_all(void) { return H5S_ALL; }
static inline hid_t ap_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t ap_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t ap_h5p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t ap_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t ap_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t ap_h5t_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t ap_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t ap_h5t_native_int16(void) { return H5T_NATIVE_INT16; }
static inline hid_t ap_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t ap_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t ap_h5t_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t ap_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t ap_h5t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t ap_h5t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t ap_h5t_std_i16le(void) { return H5T_STD_I16LE; }
static inline hid_t ap_h5t_std_i8le(void) { return H5T_STD_I8LE; }
static inline hid_t ap_h5t_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t ap_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t ap_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline unsigned ap_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned ap_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
static inline unsigned ap_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned ap_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline hid_t ap_h5e_default(void) { return H5E_DEFAULT; }

// Collects the descriptions on HDF5's error stack (innermost first) into `buffer`, then clears
// the stack. HDF5 reports failures only through that stack.
static inline herr_t ap_h5_error_walk(unsigned n, const H5E_error2_t *e, void *data) {
    char *buffer = (char *)((void **)data)[0];
    size_t size = *(size_t *)((void **)data)[1];
    size_t used = strlen(buffer);
    if (e->desc && used + 4 < size) {
        if (used > 0) { strncat(buffer, "; ", size - used - 1); used += 2; }
        strncat(buffer, e->func_name ? e->func_name : "", size - used - 1);
        used = strlen(buffer);
        if (used + 3 < size) { strncat(buffer, ": ", size - used - 1); }
        used = strlen(buffer);
        strncat(buffer, e->desc, size - used - 1);
    }
    (void)n;
    return 0;
}
static inline void ap_h5_error_message(char *buffer, size_t size) {
    if (size == 0) return;
    buffer[0] = 0;
    void *data[2] = { buffer, &size };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, ap_h5_error_walk, data);
    H5Eclear2(H5E_DEFAULT);
}
static inline void ap_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
#endif
