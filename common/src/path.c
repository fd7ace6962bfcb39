/*  path.c: safe file names (sanitizing, joining), safe file creation under a
    root directory fd (mkdirat/openat with O_NOFOLLOW, temp file + fsync +
    rename without overwrite), and the Soulseek remote path splitter.

    The sanitizer is pure (no I/O) so it can be unit-tested and fuzzed alone
    (fuzz/fuzz_path.c). See path.h for the exact rules.
*/
#include "soulpipe/path.h"

#include "soulpipe/rand.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define FALLBACK_NAME "untitled"

const char *
sp_path_strerror (int code)
{
    switch (code) {
        case SP_PATH_OK:
            return "ok";
        case SP_PATH_ERR_INVALID:
            return "invalid or unsafe path component";
        case SP_PATH_ERR_ESCAPE:
            return "path would leave its root";
        case SP_PATH_ERR_SYMLINK:
            return "symlink in path refused";
        case SP_PATH_ERR_NOTDIR:
            return "path component is not a directory";
        case SP_PATH_ERR_EXISTS:
            return "file already exists";
        case SP_PATH_ERR_IO:
            return "I/O error";
        case SP_PATH_ERR_NOMEM:
            return "out of memory";
        default:
            return "unknown path error";
    }
}

// ------------------------------------------------------------ UTF-8

//  Decode one strict UTF-8 code point at p (len bytes left). Returns the
//  number of bytes used (1-4) and sets *cp, or 0 when the sequence is
//  invalid (bad lead, bad continuation, truncated, overlong, surrogate,
//  above U+10FFFF).
static size_t
s_utf8_decode (const unsigned char *p, size_t len, uint32_t *cp)
{
    unsigned char c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t need;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        v = c & 0x07;
        min = 0x10000;
    } else
        return 0;
    if (len < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return need;
}

// ------------------------------------------------------------ sanitizing

//  True for a byte we strip at either end of a name.
static bool
s_is_trim (char c)
{
    return c == ' ' || c == '.';
}

//  ASCII case-insensitive compare of n bytes.
static bool
s_ieq (const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z')
            x = (char) (x - 'a' + 'A');
        if (y >= 'a' && y <= 'z')
            y = (char) (y - 'a' + 'A');
        if (x != y)
            return false;
    }
    return true;
}

//  True when the name s (len bytes) is a Windows-reserved device name: its
//  part before the first '.', with trailing spaces dropped, is one of the
//  reserved names (any ASCII case).
static bool
s_is_reserved (const char *s, size_t len)
{
    size_t base = 0;
    while (base < len && s[base] != '.')
        base++;
    while (base > 0 && s[base - 1] == ' ')
        base--;
    static const char *const three[] = {"CON", "PRN", "AUX", "NUL"};
    if (base == 3) {
        for (size_t i = 0; i < sizeof three / sizeof three[0]; i++)
            if (s_ieq (s, three[i], 3))
                return true;
        return false;
    }
    if (base == 6 && s_ieq (s, "CONIN$", 6))
        return true;
    if (base == 7 && s_ieq (s, "CONOUT$", 7))
        return true;
    if (base >= 4 && (s_ieq (s, "COM", 3) || s_ieq (s, "LPT", 3))) {
        if (base == 4 && s[3] >= '0' && s[3] <= '9')
            return true;
        //  Superscript one, two, three: U+00B9, U+00B2, U+00B3.
        if (base == 5 && (unsigned char) s[3] == 0xC2 &&
            ((unsigned char) s[4] == 0xB9 || (unsigned char) s[4] == 0xB2 ||
             (unsigned char) s[4] == 0xB3))
            return true;
    }
    return false;
}

static size_t
s_clamp_max (size_t max)
{
    if (max == 0 || max > SP_PATH_NAME_MAX)
        return SP_PATH_NAME_MAX;
    return max;
}

//  Cut s (len bytes, valid UTF-8) to at most max bytes on a code point
//  boundary, then drop trailing spaces and dots. Returns the new length.
static size_t
s_cut (const char *s, size_t len, size_t max)
{
    if (len > max) {
        len = max;
        //  Back up over continuation bytes so we end on a boundary.
        while (len > 0 && ((unsigned char) s[len] & 0xC0) == 0x80)
            len--;
    }
    while (len > 0 && s_is_trim (s[len - 1]))
        len--;
    return len;
}

//  Map name (len bytes) into out (capacity cap >= max + 8), dropping the
//  leading trim characters, and stopping once more than max bytes are
//  written (anything after that is cut anyway). Returns the bytes written.
static size_t
s_map (const char *name, size_t len, char *out, size_t cap, size_t max)
{
    const unsigned char *p = (const unsigned char *) name;
    size_t i = 0, o = 0;
    while (i < len && o <= max) {
        uint32_t cp = 0;
        size_t n = s_utf8_decode (p + i, len - i, &cp);
        char repl = 0;
        if (n == 0) {
            repl = '_';
            n = 1;
        } else if (cp == '/' || cp == '\\' || cp == '<' || cp == '>' || cp == ':' || cp == '"' ||
                   cp == '|' || cp == '?' || cp == '*')
            repl = '_';
        else if (cp == '\t' || cp == '\n' || cp == '\v' || cp == '\f' || cp == '\r')
            repl = ' ';
        else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
                 (cp >= 0x2066 && cp <= 0x2069))
            repl = '_';

        if (repl) {
            if (!(o == 0 && s_is_trim (repl)) && o + 1 <= cap)
                out[o++] = repl;
        } else {
            if (!(o == 0 && n == 1 && s_is_trim ((char) cp)) && o + n <= cap) {
                memcpy (out + o, p + i, n);
                o += n;
            }
        }
        i += n;
    }
    return o;
}

//  Sanitize into out (capacity >= max + 8) and return the length (may be 0;
//  the caller applies the fallback). Applies the reserved-name prefix.
static size_t
s_sanitize_into (const char *name, size_t len, size_t max, char *out, size_t cap)
{
    size_t o = s_map (name, len, out, cap, max);
    o = s_cut (out, o, max);
    if (o > 0 && s_is_reserved (out, o)) {
        memmove (out + 1, out, o);
        out[0] = '_';
        o = s_cut (out, o + 1, max);
    }
    return o;
}

char *
sp_path_sanitize_n (const char *name, size_t len, size_t max)
{
    max = s_clamp_max (max);
    if (!name)
        len = 0;
    size_t cap = max + 8;
    char *out = malloc (cap + 1);
    if (!out)
        return NULL;
    size_t o = s_sanitize_into (name, len, max, out, cap);
    if (o == 0) {
        const char *fb = max >= strlen (FALLBACK_NAME) ? FALLBACK_NAME : "_";
        o = strlen (fb);
        memcpy (out, fb, o);
    }
    out[o] = '\0';
    return out;
}

char *
sp_path_sanitize_max (const char *name, size_t max)
{
    return sp_path_sanitize_n (name, name ? strlen (name) : 0, max);
}

char *
sp_path_sanitize (const char *name)
{
    return sp_path_sanitize_max (name, SP_PATH_NAME_MAX);
}

bool
sp_path_is_degenerate (const char *name)
{
    size_t len = name ? strlen (name) : 0;
    char *out = malloc (SP_PATH_NAME_MAX + 8 + 1);
    if (!out)
        return false;
    size_t o = s_sanitize_into (name ? name : "", len, SP_PATH_NAME_MAX, out, SP_PATH_NAME_MAX + 8);
    bool degenerate = true;
    for (size_t i = 0; i < o && degenerate; i++)
        degenerate = out[i] == '_' || out[i] == ' ';
    free (out);
    return degenerate;
}

char *
sp_path_playlist_folder (const char *name, const char *id, bool with_id)
{
    bool degenerate = sp_path_is_degenerate (name);
    char *sid = id && *id ? sp_path_sanitize_max (id, 64) : NULL;
    if (id && *id && !sid)
        return NULL;
    if (!sid || (!with_id && !degenerate)) {
        free (sid);
        return sp_path_sanitize (degenerate ? FALLBACK_NAME : name);
    }
    //  " [" + id + "]" after the name, which is cut to leave room for it
    size_t room = SP_PATH_NAME_MAX - strlen (sid) - 3;
    char *base = sp_path_sanitize_max (degenerate ? FALLBACK_NAME : name, room);
    size_t n = base ? strlen (base) + strlen (sid) + 4 : 0;
    char *out = base ? malloc (n) : NULL;
    if (out)
        snprintf (out, n, "%s [%s]", base, sid);
    free (base);
    free (sid);
    return out;
}

char *
sp_path_sanitize_ext (const char *name, const char *ext, size_t max)
{
    max = s_clamp_max (max);
    if (!ext || max < 4)
        return sp_path_sanitize_max (name, max);

    //  The extension: mapped like a name (leading dots/spaces dropped), cut
    //  to its own limit; no reserved check (only the stem matters there).
    size_t ext_max = max / 2 < SP_PATH_EXT_MAX ? max / 2 : SP_PATH_EXT_MAX;
    char ext_buf[SP_PATH_EXT_MAX + 16];
    size_t e = s_map (ext, strlen (ext), ext_buf, sizeof ext_buf, ext_max);
    e = s_cut (ext_buf, e, ext_max);
    if (e == 0)
        return sp_path_sanitize_max (name, max);

    size_t stem_max = max - 1 - e;  //  >= max/2 - 1 >= 1
    size_t cap = max + 8;
    char *out = malloc (cap + 1);
    if (!out)
        return NULL;
    size_t o = s_sanitize_into (name, name ? strlen (name) : 0, stem_max, out, cap);
    if (o == 0) {
        const char *fb = stem_max >= strlen (FALLBACK_NAME) ? FALLBACK_NAME : "_";
        o = strlen (fb);
        memcpy (out, fb, o);
    }
    out[o++] = '.';
    memcpy (out + o, ext_buf, e);
    o += e;
    out[o] = '\0';
    return out;
}

bool
sp_path_is_safe (const char *name)
{
    if (!name)
        return false;
    char *s = sp_path_sanitize (name);
    bool same = s && strcmp (s, name) == 0;
    free (s);
    return same;
}

const char *
sp_path_ext (const char *name)
{
    if (!name)
        return "";
    const char *dot = strrchr (name, '.');
    if (!dot || dot == name)
        return "";
    return dot + 1;
}

// ------------------------------------------------------------ joining

//  True when c is acceptable as a component for join/mkdirs/commit.
static bool
s_component_ok (const char *c)
{
    if (!c || !*c)
        return false;
    if (strcmp (c, ".") == 0 || strcmp (c, "..") == 0)
        return false;
    if (strchr (c, '/'))
        return false;
    if (strlen (c) > SP_PATH_NAME_MAX)
        return false;
    return true;
}

int
sp_path_join (const char *root, const char *const *components, size_t n, char **out)
{
    if (!out)
        return SP_PATH_ERR_INVALID;
    *out = NULL;
    if (!root || !*root || (n > 0 && !components))
        return SP_PATH_ERR_INVALID;
    size_t rlen = strlen (root);
    while (rlen > 1 && root[rlen - 1] == '/')
        rlen--;
    size_t total = rlen + 1;
    for (size_t i = 0; i < n; i++) {
        if (!s_component_ok (components[i]))
            return SP_PATH_ERR_INVALID;
        total += strlen (components[i]) + 1;
    }
    char *buf = malloc (total);
    if (!buf)
        return SP_PATH_ERR_NOMEM;
    memcpy (buf, root, rlen);
    size_t o = rlen;
    for (size_t i = 0; i < n; i++) {
        if (!(o == 1 && buf[0] == '/'))
            buf[o++] = '/';
        size_t cl = strlen (components[i]);
        memcpy (buf + o, components[i], cl);
        o += cl;
    }
    buf[o] = '\0';

    //  Backstop: the result must start with the root and a separator and
    //  contain no ".." segment after it, whatever the checks above missed.
    if (n > 0) {
        size_t plen = (rlen == 1 && root[0] == '/') ? 1 : rlen + 1;
        bool ok = strncmp (buf, root, rlen) == 0 && buf[plen - 1] == '/';
        for (const char *seg = buf + plen; ok && *seg;) {
            const char *end = strchr (seg, '/');
            size_t sl = end ? (size_t) (end - seg) : strlen (seg);
            if (sl == 0 || (sl == 2 && seg[0] == '.' && seg[1] == '.') ||
                (sl == 1 && seg[0] == '.'))
                ok = false;
            seg += sl + (end ? 1 : 0);
        }
        if (!ok) {
            free (buf);
            return SP_PATH_ERR_ESCAPE;
        }
    }
    *out = buf;
    return SP_PATH_OK;
}

// ------------------------------------------------------------ safe creation

int
sp_path_mkdirs_fd (int rootfd, const char *const *components, size_t n, int *dirfd_out)
{
    if (!dirfd_out)
        return SP_PATH_ERR_INVALID;
    *dirfd_out = -1;
    if (rootfd < 0 || (n > 0 && !components))
        return SP_PATH_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if (!s_component_ok (components[i]))
            return SP_PATH_ERR_INVALID;

    int fd = fcntl (rootfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return SP_PATH_ERR_IO;
    for (size_t i = 0; i < n; i++) {
        if (mkdirat (fd, components[i], 0777) != 0 && errno != EEXIST) {
            int e = errno;
            close (fd);
            errno = e;
            return SP_PATH_ERR_IO;
        }
        //  O_NOFOLLOW: a symlink planted in the tree (even one pointing at a
        //  directory) is refused instead of being followed.
        int next = openat (fd, components[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            int e = errno;
            int rc = SP_PATH_ERR_IO;
            //  Linux reports a symlink opened with O_DIRECTORY|O_NOFOLLOW
            //  as ENOTDIR (ELOOP without O_DIRECTORY): look at what it is.
            struct stat st;
            if (e == ELOOP)
                rc = SP_PATH_ERR_SYMLINK;
            else if (e == ENOTDIR) {
                rc = SP_PATH_ERR_NOTDIR;
                if (fstatat (fd, components[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISLNK (st.st_mode))
                    rc = SP_PATH_ERR_SYMLINK;
            }
            close (fd);
            errno = e;
            return rc;
        }
        close (fd);
        fd = next;
    }
    *dirfd_out = fd;
    return SP_PATH_OK;
}

int
sp_path_mkdirs_at (const char *root, const char *const *components, size_t n, int *dirfd_out)
{
    if (!dirfd_out)
        return SP_PATH_ERR_INVALID;
    *dirfd_out = -1;
    if (!root || !*root)
        return SP_PATH_ERR_INVALID;
    int rootfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return errno == ENOTDIR ? SP_PATH_ERR_NOTDIR : SP_PATH_ERR_IO;
    int rc = sp_path_mkdirs_fd (rootfd, components, n, dirfd_out);
    int e = errno;
    close (rootfd);
    errno = e;
    return rc;
}

//  16 random hex digits (see rand.h: kernel bytes, or a fallback mix).
static void
s_random_hex (char *out17)
{
    snprintf (out17, 17, "%016llx", (unsigned long long) sp_rand_u64 ());
}

int
sp_path_open_tmp_at (int dirfd, const char *final_name, char *tmpname_out, size_t tmpname_size,
                     int *fd_out)
{
    if (fd_out)
        *fd_out = -1;
    if (!fd_out || !tmpname_out || tmpname_size < SP_PATH_TMPNAME_SIZE || dirfd < 0 ||
        !s_component_ok (final_name))
        return SP_PATH_ERR_INVALID;
    tmpname_out[0] = '\0';
    for (int attempt = 0; attempt < 16; attempt++) {
        char hex[17];
        s_random_hex (hex);
        snprintf (tmpname_out, tmpname_size, ".sp-%s.tmp", hex);
        int fd =
            openat (dirfd, tmpname_out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0) {
            //  held until the fd is closed: tells sp_path_sweep_tmp_at that
            //  the writer is alive (best effort; a failed lock only means
            //  an old file may be swept after min_age_s)
            (void) flock (fd, LOCK_EX | LOCK_NB);
            *fd_out = fd;
            return SP_PATH_OK;
        }
        if (errno != EEXIST)
            break;
    }
    tmpname_out[0] = '\0';
    return SP_PATH_ERR_IO;
}

int
sp_path_commit_at (int dirfd, const char *tmpname, const char *final_name, bool overwrite)
{
    if (dirfd < 0 || !s_component_ok (tmpname) || !s_component_ok (final_name))
        return SP_PATH_ERR_INVALID;

    //  fsync the data by name: the caller may already have closed its fd.
    int fd = openat (dirfd, tmpname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ELOOP ? SP_PATH_ERR_SYMLINK : SP_PATH_ERR_IO;
    int rc = fsync (fd);
    int e = errno;
    close (fd);
    if (rc != 0) {
        errno = e;
        return SP_PATH_ERR_IO;
    }

    if (overwrite) {
        if (renameat (dirfd, tmpname, dirfd, final_name) != 0)
            return SP_PATH_ERR_IO;
    } else if (renameat2 (dirfd, tmpname, dirfd, final_name, RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST)
            return SP_PATH_ERR_EXISTS;
        if (errno != EINVAL && errno != ENOSYS)
            return SP_PATH_ERR_IO;
        //  No RENAME_NOREPLACE on this file system: link (fails if the name
        //  exists) then drop the temporary name.
        if (linkat (dirfd, tmpname, dirfd, final_name, 0) != 0)
            return errno == EEXIST ? SP_PATH_ERR_EXISTS : SP_PATH_ERR_IO;
        unlinkat (dirfd, tmpname, 0);
    }
    //  Make the rename itself durable.
    if (fsync (dirfd) != 0 && errno != EINVAL && errno != EBADF)
        return SP_PATH_ERR_IO;
    return SP_PATH_OK;
}

int
sp_path_discard_at (int dirfd, const char *tmpname)
{
    if (dirfd < 0 || !s_component_ok (tmpname))
        return SP_PATH_ERR_INVALID;
    if (unlinkat (dirfd, tmpname, 0) != 0 && errno != ENOENT)
        return SP_PATH_ERR_IO;
    return SP_PATH_OK;
}

//  ".sp-" + 16 hex digits + ".tmp", as sp_path_open_tmp_at names them,
//  optionally followed by "." and an extension of letters and digits (a
//  caller may rename its temporary file so that it ends like the final one).
static bool
s_is_tmpname (const char *name)
{
    size_t len = strlen (name);
    if (len < 24 || strncmp (name, ".sp-", 4) != 0 || strncmp (name + 20, ".tmp", 4) != 0)
        return false;
    for (int i = 4; i < 20; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    if (len == 24)
        return true;
    if (name[24] != '.' || len == 25 || len - 25 > SP_PATH_EXT_MAX)
        return false;
    for (size_t i = 25; i < len; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'z') ||
              (name[i] >= 'A' && name[i] <= 'Z')))
            return false;
    return true;
}

int
sp_path_sweep_tmp_at (int dirfd, int min_age_s)
{
    if (dirfd < 0)
        return -1;
    int fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir (fd) : NULL;
    if (!dir) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    time_t now = time (NULL);
    int removed = 0;
    struct dirent *e;
    while ((e = readdir (dir))) {
        struct stat st;
        if (!s_is_tmpname (e->d_name) ||
            fstatat (dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG (st.st_mode) ||
            now - st.st_mtime < min_age_s)
            continue;
        int tfd = openat (dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (tfd < 0)
            continue;
        //  a writer still holding its lock is alive: leave its file
        if (flock (tfd, LOCK_EX | LOCK_NB) == 0 && unlinkat (dirfd, e->d_name, 0) == 0)
            removed++;
        close (tfd);
    }
    closedir (dir);
    return removed;
}

// ------------------------------------------------------------ remote paths

struct _sp_path_remote_t {
    char *buf;     //  copy of the remote path, separators replaced by NUL
    char **parts;  //  pointers into buf, one per non-empty component
    size_t count;  //  number of parts (>= 1)
};

sp_path_remote_t *
sp_path_remote_new (const char *remote)
{
    if (!remote)
        return NULL;
    size_t len = strnlen (remote, SP_PATH_REMOTE_MAX + 1);
    if (len == 0 || len > SP_PATH_REMOTE_MAX)
        return NULL;
    sp_path_remote_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->buf = malloc (len + 1);
    //  At most one part per two bytes, plus one.
    self->parts = malloc ((len / 2 + 1) * sizeof (char *));
    if (!self->buf || !self->parts)
        goto fail;
    memcpy (self->buf, remote, len + 1);
    char *start = NULL;
    for (size_t i = 0; i <= len; i++) {
        char c = self->buf[i];
        if (c == '\\' || c == '/' || c == '\0') {
            self->buf[i] = '\0';
            if (start)
                self->parts[self->count++] = start;
            start = NULL;
        } else if (!start)
            start = self->buf + i;
    }
    if (self->count == 0)
        goto fail;
    return self;
fail:
    sp_path_remote_destroy (&self);
    return NULL;
}

void
sp_path_remote_destroy (sp_path_remote_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_path_remote_t *self = *self_p;
    free (self->buf);
    free (self->parts);
    free (self);
    *self_p = NULL;
}

size_t
sp_path_remote_count (const sp_path_remote_t *self)
{
    return self ? self->count : 0;
}

const char *
sp_path_remote_part (const sp_path_remote_t *self, size_t i)
{
    if (!self || i >= self->count)
        return NULL;
    return self->parts[i];
}

const char *
sp_path_remote_file (const sp_path_remote_t *self)
{
    return self ? self->parts[self->count - 1] : NULL;
}

const char *
sp_path_remote_dir (const sp_path_remote_t *self)
{
    if (!self || self->count < 2)
        return NULL;
    return self->parts[self->count - 2];
}

int
sp_path_remote_split (const char *remote, char **dir_out, char **file_out)
{
    if (dir_out)
        *dir_out = NULL;
    if (!file_out)
        return SP_PATH_ERR_INVALID;
    *file_out = NULL;
    sp_path_remote_t *r = sp_path_remote_new (remote);
    if (!r)
        return SP_PATH_ERR_INVALID;
    int rc = SP_PATH_OK;
    *file_out = strdup (sp_path_remote_file (r));
    if (!*file_out)
        rc = SP_PATH_ERR_NOMEM;
    else if (dir_out && sp_path_remote_dir (r)) {
        *dir_out = strdup (sp_path_remote_dir (r));
        if (!*dir_out) {
            free (*file_out);
            *file_out = NULL;
            rc = SP_PATH_ERR_NOMEM;
        }
    }
    sp_path_remote_destroy (&r);
    return rc;
}
