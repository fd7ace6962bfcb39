/*  cover.c: the album cover (see tagger.h, step 4): cover.jpg / cover.png
    in the album folder is the cache; otherwise the image is fetched from
    the track's cover_url (absolute, or a path resolved against
    SPOTIFY_API_URL) and saved there. A cover that cannot be had is a
    warning, never a failure of the track.
*/
#include "tagger_int.h"

#include "soulpipe/io.h"
#include "soulpipe/log.h"
#include "soulpipe/path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  Read a whole small file under dirfd (no symlinks). Caller owns *data.
static int
s_read_at (int dirfd, const char *name, unsigned char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size <= 0 ||
        (uint64_t) st.st_size > SP_TAGGER__COVER_MAX) {
        close (fd);
        return -1;
    }
    unsigned char *buf = malloc ((size_t) st.st_size);
    size_t got = 0;
    while (buf && got < (size_t) st.st_size) {
        ssize_t r = read (fd, buf + got, (size_t) st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t) r;
    }
    close (fd);
    if (!buf || got != (size_t) st.st_size) {
        free (buf);
        return -1;
    }
    *data = buf;
    *len = got;
    return 0;
}

//  Write data to name in dirfd atomically; an existing file wins.
static void
s_write_at (int dirfd, const char *name, const unsigned char *data, size_t len)
{
    char tmp[SP_PATH_TMPNAME_SIZE];
    int fd;
    if (sp_path_open_tmp_at (dirfd, name, tmp, sizeof tmp, &fd) != SP_PATH_OK)
        return;
    int wrc = sp_io_write_all (fd, data, len);
    close (fd);
    if (wrc != 0 || sp_path_commit_at (dirfd, tmp, name, false) != SP_PATH_OK)
        sp_path_discard_at (dirfd, tmp);
}


static const char *
s_image_mime (const unsigned char *d, size_t n)
{
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
        return "image/jpeg";
    if (n >= 8 && memcmp (d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    return NULL;
}

//  The album cover: cover.jpg / cover.png in the album folder, else
//  fetched from cover_url and saved there. Never fails the job.
void
sp_tagger__cover (sp_tagger_t *self, int albumfd, const sp_track_t *t, unsigned char **data,
                  size_t *len, const char **mime)
{
    *data = NULL;
    *len = 0;
    *mime = NULL;
    static const char *const names[] = {"cover.jpg", "cover.png"};
    for (int i = 0; i < 2; i++)
        if (s_read_at (albumfd, names[i], data, len) == 0) {
            *mime = s_image_mime (*data, *len);
            if (*mime)
                return;
            free (*data);
            *data = NULL;
            *len = 0;
        }
    const char *url = t->cover_url;
    if (!url || !*url)
        return;
    bool absolute = strncmp (url, "http://", 7) == 0 || strncmp (url, "https://", 8) == 0;
    if (!absolute && url[0] != '/') {
        sp_log_warn ("event=cover_skip reason=\"unusable cover URL\" url=%s", sp_log_q (url));
        return;
    }
    sp_http_req_t req = {.allow_text = true};
    sp_http_resp_t *resp = NULL;
    int rc = sp_http_request (self->cover_http, SP_HTTP_GET, url, &req, &resp);
    if (rc != SP_HTTP_OK || !resp) {
        sp_log_warn ("event=cover_fetch_failed album=%s error=%s", sp_log_q (t->album_id),
                     sp_log_q (resp && resp->error ? resp->error : sp_http_err_name (rc)));
        sp_http_resp_destroy (&resp);
        return;
    }
    const unsigned char *body = (const unsigned char *) resp->body;
    const char *m = s_image_mime (body, resp->body_len);
    if (!m) {
        sp_log_warn ("event=cover_fetch_failed album=%s error=\"not a JPEG or PNG image\"",
                     sp_log_q (t->album_id));
        sp_http_resp_destroy (&resp);
        return;
    }
    *data = malloc (resp->body_len);
    if (*data) {
        memcpy (*data, body, resp->body_len);
        *len = resp->body_len;
        *mime = m;
        s_write_at (albumfd, strcmp (m, "image/png") == 0 ? "cover.png" : "cover.jpg", *data, *len);
        sp_log_info ("event=cover_saved album=%s bytes=%zu", sp_log_q (t->album_id), *len);
    }
    sp_http_resp_destroy (&resp);
}
