/*  fake_fixture.c: file helpers used to load fixtures (whole files, JSON
    documents) and to create the download folders.
*/
#include "fake.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FIXTURE_MAX_BYTES (64 * 1024 * 1024)  //  bytes; a sanity bound

char *
sp_fake_read_file (const char *path, size_t *len_out)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            size_t ncap = cap ? cap * 2 : 8192;
            if (ncap > FIXTURE_MAX_BYTES) {
                errno = EFBIG;
                goto fail;
            }
            char *n = realloc (data, ncap + 1);
            if (!n)
                goto fail;
            data = n;
            cap = ncap;
        }
        size_t got = fread (data + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror (f))
                goto fail;
            break;
        }
    }
    fclose (f);
    if (!data) {
        data = malloc (1);
        if (!data)
            return NULL;
    }
    data[len] = '\0';
    if (len_out)
        *len_out = len;
    return data;
fail:
    fclose (f);
    free (data);
    return NULL;
}

json_t *
sp_fake_load_json (const char *path, bool *missing, char *err, size_t err_size)
{
    *missing = false;
    size_t len = 0;
    char *text = sp_fake_read_file (path, &len);
    if (!text) {
        if (errno == ENOENT)
            *missing = true;
        else
            snprintf (err, err_size, "%s: %s", path, strerror (errno));
        return NULL;
    }
    json_error_t jerr;
    json_t *json = json_loadb (text, len, JSON_ALLOW_NUL, &jerr);
    free (text);
    if (!json)
        snprintf (err, err_size, "%s:%d: %s", path, jerr.line, jerr.text);
    return json;
}

int
sp_fake_mkdir_p (const char *dir)
{
    char buf[4096];
    size_t len = strlen (dir);
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy (buf, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char saved = buf[i];
            buf[i] = '\0';
            if (mkdir (buf, 0755) != 0 && errno != EEXIST)
                return -1;
            buf[i] = saved;
        }
    }
    struct stat st;
    return (stat (dir, &st) == 0 && S_ISDIR (st.st_mode)) ? 0 : -1;
}
