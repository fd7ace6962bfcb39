/*  tagger.c: the tag stage (see tagger.h): the tagger object, and filing
    one track step by step (sp_tagger_process): check the staged file, make
    the folder, pick the name, copy + tag + rename, record the result.
    Where a track goes is layout.c's, the cover cover.c's, the playlist file
    m3u8.c's, the job end finisher.c's (see tagger_int.h).
*/
#include "tagger_int.h"

#include "soulpipe/err.h"
#include "soulpipe/http.h"
#include "soulpipe/io.h"
#include "soulpipe/log.h"
#include "soulpipe/path.h"
#include "soulpipe/songs.h"
#include "soulpipe/tags.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MAX_SUFFIX 99             //  "(2)".."(99)" collision names
#define S_TAG_ROOM   (256u * 1024)  //  bytes kept free beyond the file and cover for the tags
#define S_FULL_BELOW 4096           //  free bytes after tagging below which the write was cut

// ------------------------------------------------------------ helpers

static char *
s_strdup (const char *s)
{
    return strdup (s ? s : "");
}

char *
sp_tagger__join_artists (char *const *v, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen (v[i] ? v[i] : "") + 2;
    char *out = malloc (len);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!v[i] || !*v[i])
            continue;
        if (*out)
            strcat (out, ", ");
        strcat (out, v[i]);
    }
    return out;
}


// ------------------------------------------------------------ lifecycle

//  The library the finisher rescans and gives the playlist, when it needs
//  one (a folder library reads the files itself: kept only for playlists).
//  Returns 0, or -1 with err.
static int
s_library_open (sp_tagger_t *self, const sp_tagger_opts_t *o, char *err, size_t n)
{
    if (o->library.kind == SP_MEDIALIB_NONE)
        return 0;
    if (o->library.kind == SP_MEDIALIB_FOLDER && !o->library_playlists)
        return 0;
    sp_medialib_opts_t lo = o->library;
    lo.store = self->store;
    int rc = SP_MEDIALIB_OK;
    char note[512] = "";
    self->library = sp_medialib_new (&lo, &rc, note, sizeof note);
    if (!self->library) {
        sp_err_set (err, n, "%s", *note ? note : "out of memory");
        return -1;
    }
    unsigned caps = sp_medialib_caps (self->library);
    self->library_rescan = (caps & SP_MEDIALIB_RESCAN_NEEDED) != 0;
    self->library_playlists = o->library_playlists && (caps & SP_MEDIALIB_CAN_PLAYLIST);
    if (!self->library_rescan && !self->library_playlists)
        sp_medialib_destroy (&self->library);
    return 0;
}

sp_tagger_t *
sp_tagger_new (const sp_tagger_opts_t *o, char *err, size_t n)
{
    if (!o || !o->transfer_dir || !*o->transfer_dir) {
        sp_err_set (err, n, "no transfer folder configured");
        return NULL;
    }
    sp_tagger_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->transfer_dir = s_strdup (o->transfer_dir);
    size_t tl = strlen (self->transfer_dir);
    while (tl > 1 && self->transfer_dir[tl - 1] == '/')
        self->transfer_dir[--tl] = '\0';
    char real[PATH_MAX];
    self->staging_real =
        s_strdup (o->staging_dir && *o->staging_dir && realpath (o->staging_dir, real) ? real : "");
    self->scan_timeout_ms = o->scan_timeout_ms > 0 ? o->scan_timeout_ms : 300 * 1000;
    self->embed_cover = o->embed_cover;
    self->proc_fd = access ("/proc/self/fd", X_OK) == 0;
    if (!self->transfer_dir || !self->staging_real)
        goto fail;
    if (o->redis_url && *o->redis_url) {
        self->store = sp_store_new (o->redis_url, err, n);
        if (!self->store)
            goto fail;
    }
    self->cover_http =
        sp_http_new (o->spotify_api_url && *o->spotify_api_url ? o->spotify_api_url : NULL);
    if (!self->cover_http)
        goto fail;
    sp_http_set_max_response (self->cover_http, SP_TAGGER__COVER_MAX);
    sp_http_set_header (self->cover_http, "Accept", "image/*");
    sp_http_set_retries (self->cover_http, 2, 300, 3000);
    sp_http_set_timeouts (self->cover_http, 5000, 30000);
    if (s_library_open (self, o, err, n) != 0)
        goto fail;
    return self;
fail:
    if (err && n && !*err)
        sp_err_set (err, n, "out of memory");
    sp_tagger_destroy (&self);
    return NULL;
}

void
sp_tagger_destroy (sp_tagger_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_tagger_t *self = *self_p;
    sp_medialib_destroy (&self->library);  //  before the store it may borrow
    sp_store_destroy (&self->store);
    sp_http_destroy (&self->cover_http);
    free (self->transfer_dir);
    free (self->staging_real);
    free (self);
    *self_p = NULL;
}

void
sp_tagger_set_notify (sp_tagger_t *self, sp_notify_t *notify)
{
    if (self)
        self->notify = notify;
}

sp_store_t *
sp_tagger_store (sp_tagger_t *self)
{
    return self ? self->store : NULL;
}

void
sp_tagger_set_fail_point (sp_tagger_t *self, int point)
{
    if (self)
        self->fail_point = point;
}

// ------------------------------------------------------------ file helpers

static void
s_to_tags (const sp_track_t *t, sp_tags_t *out)
{
    memset (out, 0, sizeof *out);
    out->title = t->title;
    out->artists = (const char *const *) t->artists;
    out->artists_count = t->artists_count;
    out->album = t->album;
    out->album_artists = (const char *const *) t->album_artists;
    out->album_artists_count = t->album_artists_count;
    out->date = t->release_date;
    out->track_number = t->has_track_number ? (unsigned) t->track_number : 0;
    out->track_total = t->has_track_total ? (unsigned) t->track_total : 0;
    out->disc_number = t->has_disc_number ? (unsigned) t->disc_number : 0;
    out->disc_total = t->has_disc_total ? (unsigned) t->disc_total : 0;
    out->genre = t->genre;
    out->isrc = t->isrc;
    out->spotify_track_id = t->spotify_id;
    out->spotify_album_id = t->album_id;
}

//  Remove the folders this call created (deepest first) when they are empty.
static void
s_rmdirs (const char *root, const char *const *comp, const bool *created, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        if (!created[i])
            continue;
        char *path = NULL;
        if (sp_path_join (root, comp, i + 1, &path) == SP_PATH_OK)
            rmdir (path);
        free (path);
    }
}


// ------------------------------------------------------------ filing, step by step

//  One sp_tagger_process call: what the steps find out and what they made
//  (so that a failure can take it back).
typedef struct {
    const sp_track_t *t;
    const char *job;                       //  the job id (NULL = none)
    const char *staged;                    //  the staged path as given
    char real[PATH_MAX];                   //  its realpath (when it exists)
    bool staged_exists;                    //  false: a re-run after the rename?
    const char *ext;                       //  the staged file's extension
    sp_tagger_layout_t lay;                //  where it goes
    const char *comp[3];                   //  playlist, artist, album folder names
    bool created[3];                       //  which of them this call creates
    char *dir_path;                        //  Transfer/<playlist>/<artist>/<album>
    char *artist_joined;                   //  "A, B" (the ARTIST tag)
    int dirfd, srcfd;                      //  album folder, staged file (-1 = none)
    char tmp[SP_PATH_TMPNAME_SIZE];        //  our temporary file in dirfd ("" = none)
    char file_name[SP_PATH_NAME_MAX + 1];  //  the final name
    bool already;                          //  the file is there already (re-delivery)
    unsigned char *cover;                  //  the album cover, or NULL
    size_t cover_len;
    const char *cover_mime;
    char *reason;  //  the caller's reason buffer
    size_t rn;
    bool *retry;  //  the caller's verdict
} s_filing_t;

//  Say why this track failed, in words a user understands, and whether
//  another try could succeed (printf-style, checked through sp_err_set).
#define S_FAIL(f, may_retry, ...)                                                                  \
    do {                                                                                           \
        *(f)->retry = (may_retry);                                                                 \
        sp_err_set ((f)->reason, (f)->rn, __VA_ARGS__);                                            \
    } while (0)

//  Format and place: the layout, the joined artists, the folder path.
static int
s_plan (sp_tagger_t *self, s_filing_t *f)
{
    f->ext = sp_path_ext (f->staged);
    if (sp_tags_format (f->staged) == SP_TAGS_FMT_NONE) {
        S_FAIL (f, false, "unsupported audio format \"%s\" (can tag flac, mp3, ogg, opus, m4a)",
                f->ext);
        return -1;
    }
    if (sp_tagger_layout (f->t, f->ext, NULL, &f->lay) != 0) {
        S_FAIL (f, false, "cannot build a file name for this track");
        return -1;
    }
    //  the playlist folder: distinct playlists get distinct ones (folder.c)
    char *folder = NULL;
    int frc = sp_tagger__folder (self, f->job, f->t->playlist, &folder);
    if (frc != 0) {
        S_FAIL (f, true, "%s",
                frc == -2 ? "Redis is unreachable: cannot choose the playlist folder"
                          : "out of memory");
        return -1;
    }
    free (f->lay.playlist);
    f->lay.playlist = folder;
    f->artist_joined = sp_tagger__join_artists (f->t->artists, f->t->artists_count);
    f->comp[0] = f->lay.playlist;
    f->comp[1] = f->lay.artist;
    f->comp[2] = f->lay.album;
    if (!f->artist_joined ||
        sp_path_join (self->transfer_dir, f->comp, 3, &f->dir_path) != SP_PATH_OK) {
        S_FAIL (f, false, "cannot build the destination folder name");
        return -1;
    }
    return 0;
}

//  Step 1: the staged file is inside staging and readable audio. A missing
//  file may be a re-run after the rename: the name step looks for it.
static int
s_check_staged (sp_tagger_t *self, s_filing_t *f)
{
    f->staged_exists = realpath (f->staged, f->real) != NULL;
    if (!f->staged_exists)
        return 0;
    if (*self->staging_real) {
        size_t sl = strlen (self->staging_real);
        if (strncmp (f->real, self->staging_real, sl) != 0 || f->real[sl] != '/') {
            S_FAIL (f, false, "staged file is outside the staging folder");
            return -1;
        }
    }
    sp_tags_info_t info;
    char err[256];
    if (sp_tags_probe (f->real, &info, err, sizeof err) != SP_TAGS_OK) {
        S_FAIL (f, false, "cannot tag the downloaded file: %s", err);
        return -1;
    }
    f->srcfd = open (f->real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (f->srcfd < 0) {
        S_FAIL (f, true, "cannot open the downloaded file: %s", strerror (errno));
        return -1;
    }
    return 0;
}

//  Whether Transfer's file system is the cause of a failed (or coming)
//  write of need bytes into dirfd (-1: the Transfer root): full or
//  read-only (sp_io_fs_problem). err: the errno a write got, 0 if none.
static int
s_fs_problem (sp_tagger_t *self, int dirfd, int err, uint64_t need, char *why, size_t n)
{
    int fd = dirfd >= 0 ? dirfd : open (self->transfer_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int cause = fd >= 0 ? sp_io_fs_problem (fd, err, need, why, n) : 0;
    if (fd >= 0 && fd != dirfd)
        close (fd);
    if (cause)
        sp_log_warn ("event=transfer_fs_problem errno=%d why=%s", cause, sp_log_q (why));
    return cause;
}

//  Step 2: the destination folder (remembering which levels are new).
static int
s_make_folder (sp_tagger_t *self, s_filing_t *f)
{
    for (size_t i = 0; i < 3; i++) {
        char *pth = NULL;
        struct stat st;
        if (sp_path_join (self->transfer_dir, f->comp, i + 1, &pth) == SP_PATH_OK)
            f->created[i] = lstat (pth, &st) != 0 && errno == ENOENT;
        free (pth);
    }
    //  Nothing staged and no album folder: there is no earlier delivery.
    if (!f->staged_exists && f->created[2]) {
        S_FAIL (f, false, "the downloaded file is missing from staging");
        return -1;
    }
    int prc = sp_path_mkdirs_at (self->transfer_dir, f->comp, 3, &f->dirfd);
    if (prc != SP_PATH_OK) {
        int e = errno;
        char why[160];
        if (prc == SP_PATH_ERR_IO && s_fs_problem (self, -1, e, 0, why, sizeof why))
            S_FAIL (f, true, "cannot create the destination folder: Transfer: %s", why);
        else
            S_FAIL (f, prc == SP_PATH_ERR_IO, "cannot create the destination folder: %s",
                    sp_path_strerror (prc));
        return -1;
    }
    return 0;
}

//  A path TagLib can open for name in the album folder: through
//  /proc/self/fd when available (no path walk, so no symlink can redirect
//  it), else joined.
static void
s_fd_path (sp_tagger_t *self, const s_filing_t *f, const char *name, char *out, size_t n)
{
    if (self->proc_fd)
        snprintf (out, n, "/proc/self/fd/%d/%s", f->dirfd, name);
    else
        snprintf (out, n, "%s/%s", f->dir_path, name);
}

//  Is the existing file `path` this track? By SPOTIFY_TRACK_ID, or without
//  an id by its title and artist tags.
static bool
s_same_track (const char *path, const sp_track_t *t, const char *artist_joined)
{
    if (t->spotify_id && *t->spotify_id) {
        char *id = sp_tags_get1 (path, "SPOTIFY_TRACK_ID");
        bool same = id && strcmp (id, t->spotify_id) == 0;
        free (id);
        return same;
    }
    char *title = sp_tags_get1 (path, "TITLE");
    char *artist = sp_tags_get1 (path, "ARTIST");
    bool same = title && artist && strcmp (title, t->title) == 0 &&
                strcmp (artist, artist_joined ? artist_joined : "") == 0;
    free (title);
    free (artist);
    return same;
}


//  Step 3: the name: the plain one, then " [id]", then " (2)".." (99)". A
//  taken name whose file is this track is the result (re-delivery).
static int
s_pick_name (sp_tagger_t *self, s_filing_t *f)
{
    const sp_track_t *t = f->t;
    bool has_id = t->spotify_id && *t->spotify_id;
    for (int attempt = 0;; attempt++) {
        char suffix[80] = "";
        if (attempt == 1 && has_id)
            snprintf (suffix, sizeof suffix, " [%.64s]", t->spotify_id);
        else if (attempt >= 1)
            snprintf (suffix, sizeof suffix, " (%d)", attempt + (has_id ? 0 : 1));
        if (attempt > S_MAX_SUFFIX) {
            S_FAIL (f, false, "too many different files with the name %s", f->lay.file);
            return -1;
        }
        sp_tagger_layout_t l2 = {0};
        if (sp_tagger_layout (t, f->ext, suffix, &l2) != 0) {
            S_FAIL (f, true, "out of memory");
            return -1;
        }
        snprintf (f->file_name, sizeof f->file_name, "%s", l2.file);
        sp_tagger_layout_clear (&l2);
        struct stat st;
        if (fstatat (f->dirfd, f->file_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT)
                break;
            continue;
        }
        char fp[PATH_MAX];
        s_fd_path (self, f, f->file_name, fp, sizeof fp);
        if (S_ISREG (st.st_mode) && s_same_track (fp, t, f->artist_joined)) {
            f->already = true;
            return 0;
        }
    }
    if (!f->staged_exists) {
        S_FAIL (f, false, "the downloaded file is missing from staging");
        return -1;
    }
    return 0;
}

//  Step 5a: copy the staged file to a temporary file in the album folder,
//  then give it a name that ends like the final one (TagLib picks the
//  format by extension). On 0 the temporary's name is in tagged.
static int
s_copy_to_tmp (sp_tagger_t *self, s_filing_t *f, char *tagged, size_t n)
{
    int fd;
    sp_path_sweep_tmp_at (f->dirfd, SP_TAGGER__TMP_SWEEP_S);
    int prc = sp_path_open_tmp_at (f->dirfd, f->file_name, f->tmp, sizeof f->tmp, &fd);
    if (prc != SP_PATH_OK) {
        S_FAIL (f, true, "cannot create a file in the destination folder: %s",
                sp_path_strerror (prc));
        return -1;
    }
    int crc = sp_io_copy_fd (f->srcfd, fd);
    int cerr = errno;
    if (close (fd) != 0 && crc == 0) {
        crc = -1;
        cerr = errno;
    }
    char why[160];
    if (crc != 0 && s_fs_problem (self, f->dirfd, cerr, 0, why, sizeof why)) {
        S_FAIL (f, true, "copying the downloaded file failed: Transfer: %s", why);
        return -1;
    }
    if (crc != 0 || self->fail_point == 1) {
        S_FAIL (f, self->fail_point != 1, "copying the downloaded file failed: %s",
                self->fail_point == 1 ? "injected failure" : strerror (cerr));
        return -1;
    }
    snprintf (tagged, n, "%s.%.*s", f->tmp, SP_PATH_EXT_MAX, sp_path_ext (f->file_name));
    if (renameat (f->dirfd, f->tmp, f->dirfd, tagged) != 0) {
        S_FAIL (f, true, "cannot prepare the file for tagging: %s", strerror (errno));
        return -1;
    }
    f->tmp[0] = '\0';
    return 0;
}

//  Steps 4 and 5: cover, copy, tag, and rename into place without
//  overwriting.
static int
s_deliver (sp_tagger_t *self, s_filing_t *f)
{
    sp_tagger__cover (self, f->dirfd, f->t, &f->cover, &f->cover_len, &f->cover_mime);
    //  Room for the copy, the embedded cover and the tags first: TagLib
    //  does not report every failed write, and a file system that fills
    //  up while it rewrites the file leaves a cut file that only reads as
    //  "not a readable audio file" (a permanent failure) afterwards.
    struct stat sst;
    uint64_t need = (fstat (f->srcfd, &sst) == 0 ? (uint64_t) sst.st_size : 0) +
                    (self->embed_cover ? f->cover_len : 0) + S_TAG_ROOM;
    char why[160];
    if (s_fs_problem (self, f->dirfd, 0, need, why, sizeof why)) {
        S_FAIL (f, true, "cannot file the track: Transfer: %s", why);
        return -1;
    }
    char tagged[SP_PATH_TMPNAME_SIZE + SP_PATH_EXT_MAX + 2];
    if (s_copy_to_tmp (self, f, tagged, sizeof tagged) != 0)
        return -1;
    char tp[PATH_MAX];
    s_fd_path (self, f, tagged, tp, sizeof tp);
    sp_tags_t tags;
    s_to_tags (f->t, &tags);
    if (self->embed_cover && f->cover) {
        tags.cover = f->cover;
        tags.cover_len = f->cover_len;
        tags.cover_mime = f->cover_mime;
    }
    char err[300];
    int trc = sp_tags_write (tp, &tags, err, sizeof err);
    //  the file system filled up meanwhile (another writer): whatever
    //  TagLib said, the file may be cut short
    if (s_fs_problem (self, f->dirfd, trc != SP_TAGS_OK ? errno : 0, S_FULL_BELOW, why,
                      sizeof why)) {
        unlinkat (f->dirfd, tagged, 0);
        S_FAIL (f, true, "writing the tags failed: Transfer: %s", why);
        return -1;
    }
    if (trc != SP_TAGS_OK || self->fail_point == 2) {
        unlinkat (f->dirfd, tagged, 0);
        S_FAIL (f, trc == SP_TAGS_ERR_NOMEM, "tagging failed: %s",
                self->fail_point == 2 ? "injected failure" : err);
        return -1;
    }
    int prc = sp_path_commit_at (f->dirfd, tagged, f->file_name, false);
    if (prc != SP_PATH_OK) {
        unlinkat (f->dirfd, tagged, 0);
        if (prc == SP_PATH_ERR_EXISTS)  //  filed meanwhile: a retry sorts it out
            S_FAIL (f, true, "the file name was taken while tagging");
        else
            S_FAIL (f, true, "cannot move the file into place: %s", sp_path_strerror (prc));
        return -1;
    }
    return 0;
}

//  A failure after the folder step: discard our temporary file, a cover we
//  saved in a folder we created, and the folders we created.
static void
s_undo (sp_tagger_t *self, s_filing_t *f)
{
    if (f->dirfd >= 0) {
        if (*f->tmp)
            sp_path_discard_at (f->dirfd, f->tmp);
        if (f->created[2]) {
            //  The album folder is new, so a cover in it is ours: take it back.
            unlinkat (f->dirfd, "cover.jpg", 0);
            unlinkat (f->dirfd, "cover.png", 0);
        }
        close (f->dirfd);
        f->dirfd = -1;
    }
    s_rmdirs (self->transfer_dir, f->comp, f->created, 3);
}

//  Step 6: the staged file goes, the records learn the path, the playlist
//  file shows the progress. On 0 the payload's staged path is the final one.
static int
s_record (sp_tagger_t *self, s_filing_t *f, sp_payload_t *p)
{
    if (f->srcfd >= 0) {
        close (f->srcfd);
        f->srcfd = -1;
        if (unlink (f->real) != 0 && errno != ENOENT)
            sp_log_warn ("event=staged_unlink_failed path=%s errno=%d", sp_log_q (f->real), errno);
    }
    size_t fl = strlen (f->dir_path) + strlen (f->file_name) + 2;
    char *final_path = malloc (fl);
    if (!final_path) {
        S_FAIL (f, true, "out of memory");
        return -1;
    }
    snprintf (final_path, fl, "%s/%s", f->dir_path, f->file_name);
    sp_log_info ("event=filed path=%s redelivery=%s cover=%s", sp_log_q (final_path),
                 f->already ? "yes" : "no", f->cover ? "yes" : "no");
    if (self->store) {
        if (p->track_key && *p->track_key)
            sp_store_track_set_field (self->store, p->track_key, "path", final_path);
        if (f->t->spotify_id && *f->t->spotify_id)
            sp_songs_put (self->store, f->t->spotify_id, final_path, p->job, p->track_key);
    }
    sp_tagger__playlist_update (self, p, final_path);
    free (p->staged_path);
    p->staged_path = final_path;
    return 0;
}

int
sp_tagger_process (sp_tagger_t *self, sp_payload_t *p, char *reason, size_t rn, bool *retry)
{
    bool dummy = false;
    s_filing_t f = {.dirfd = -1, .srcfd = -1, .reason = reason, .rn = rn};
    f.retry = retry ? retry : &dummy;
    *f.retry = false;
    if (reason && rn)
        reason[0] = '\0';
    if (!self || !p || !p->staged_path || !*p->staged_path || !p->track.title ||
        !p->track.playlist) {
        S_FAIL (&f, false, "the tag job has no staged file, title or playlist");
        return -1;
    }
    f.t = &p->track;
    f.job = p->job;
    f.staged = p->staged_path;
    int result = -1;
    if (s_plan (self, &f) != 0 || s_check_staged (self, &f) != 0 || s_make_folder (self, &f) != 0)
        goto done;
    if (s_pick_name (self, &f) != 0 || (!f.already && s_deliver (self, &f) != 0)) {
        s_undo (self, &f);
        goto done;
    }
    result = s_record (self, &f, p);
done:
    if (f.dirfd >= 0)
        close (f.dirfd);
    if (f.srcfd >= 0)
        close (f.srcfd);
    free (f.cover);
    free (f.dir_path);
    free (f.artist_joined);
    sp_tagger_layout_clear (&f.lay);
    return result;
}
