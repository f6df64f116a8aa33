#include <curl/curl.h>
// curl_easy_setopt/getinfo are variadic; Swift needs typed wrappers.
static inline CURLcode policylist_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode policylist_curl_setopt_ptr(CURL *h, CURLoption o, const void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode policylist_curl_setopt_write(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f);
}
static inline CURLcode policylist_curl_setopt_header(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, f);
}
static inline CURLcode policylist_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode policylist_curl_getinfo_string(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode policylist_curl_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode policylist_curl_setopt_xferinfo(CURL *h, int (*f)(void *, curl_off_t, curl_off_t, curl_off_t,
                                                                         curl_off_t)) {
    return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, f);
}

// One CA store for every TLS connection of the process (OpenSSL's X509_STORE is reference-counted and locked
// for concurrent verifications). A fresh store per connection meant a PEM decode of every CA per connection.
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

// A new store with curl's default verification flags (trusted first, partial chains), or NULL.
static inline void *policylist_ca_store_new(void) {
    X509_STORE *store = X509_STORE_new();
    if(store) X509_STORE_set_flags(store, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
    return store;
}
static inline void policylist_ca_store_free(void *store) { X509_STORE_free((X509_STORE *)store); }
// Adds the certificates of a PEM file; 1 on success.
static inline int policylist_ca_store_load(void *store, const char *file) {
    return X509_STORE_load_file((X509_STORE *)store, file);
}
// The number of objects (certificates) in the store.
static inline int policylist_ca_store_count(void *store) {
    STACK_OF(X509_OBJECT) *objects = X509_STORE_get0_objects((X509_STORE *)store);
    return objects ? sk_X509_OBJECT_num(objects) : 0;
}
static CURLcode policylist_ssl_ctx_use_store(CURL *curl, void *ssl_ctx, void *store) {
    (void)curl;
    if(store) SSL_CTX_set1_cert_store((SSL_CTX *)ssl_ctx, (X509_STORE *)store);
    return CURLE_OK;
}
// Makes the handle's TLS connections verify against `store` (OpenSSL backend; other backends refuse it).
static inline CURLcode policylist_curl_use_ca_store(CURL *h, void *store) {
    CURLcode rc = curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, policylist_ssl_ctx_use_store);
    if(rc != CURLE_OK) return rc;
    return curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, store);
}
