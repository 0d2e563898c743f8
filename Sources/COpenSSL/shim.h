// OpenSSL's libcrypto (Debian's libssl-dev): the EVP message digests AstroPile uses to verify
// downloads (MD5 and SHA-256 checksum lists).
#include <openssl/evp.h>
#include <openssl/err.h>
