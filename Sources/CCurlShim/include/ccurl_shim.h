/* Typed, non-variadic wrappers around libcurl's variadic functions, which Swift cannot call.
 * Hidden visibility keeps them out of libanyllm.so's dynamic symbol table. */
#ifndef CCURL_SHIM_H
#define CCURL_SHIM_H
#include <curl/curl.h>

#pragma GCC visibility push(hidden)

typedef size_t (*ccurl_data_fn)(char *ptr, size_t size, size_t nmemb, void *userdata);

CURLcode ccurl_setopt_long(CURL *h, CURLoption o, long v);
CURLcode ccurl_setopt_ptr(CURL *h, CURLoption o, const void *v);
CURLcode ccurl_setopt_off(CURL *h, CURLoption o, curl_off_t v);
CURLcode ccurl_setopt_data_fn(CURL *h, CURLoption o, ccurl_data_fn fn);
CURLcode ccurl_getinfo_long(CURL *h, CURLINFO i, long *out);
CURLcode ccurl_getinfo_double(CURL *h, CURLINFO i, double *out);
CURLMcode ccurl_multi_setopt_long(CURLM *m, CURLMoption o, long v);

#pragma GCC visibility pop
#endif
