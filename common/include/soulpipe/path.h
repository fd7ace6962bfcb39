/*  path.h: safe file names and safe file creation.

    Every name that reaches the disk comes from outside (Spotify metadata, a
    Soulseek peer's remote path). This module turns such a name into ONE safe
    path component, joins components under a root refusing anything that
    would leave it, creates directories under a root directory fd one
    component at a time without following symlinks, and writes files through
    a temporary name in the destination folder (fsync, then an atomic rename
    that can refuse to overwrite).

    Sanitizing rules (sp_path_sanitize and friends), applied in this order:
      - invalid UTF-8 (bad lead or continuation bytes, overlong forms,
        surrogates, code points above U+10FFFF): each bad byte becomes '_';
      - '/' and '\\' become '_' (so "AC/DC" gives "AC_DC");
      - the Windows-reserved characters < > : " | ? * become '_';
      - whitespace control characters (\t \n \v \f \r) become a space; every
        other control character (U+0000-U+001F, U+007F, U+0080-U+009F) and
        the bidi override/isolate characters (U+202A-U+202E, U+2066-U+2069)
        become '_'; a NUL inside a length-given name becomes '_';
      - leading spaces and dots are removed (no hidden files, never "." or
        ".."), and so are trailing spaces and dots;
      - the result is cut to at most `max` BYTES (default 255) on a UTF-8
        code point boundary, then trailing spaces/dots are removed again;
      - a Windows-reserved device name (CON, PRN, AUX, NUL, COM0-COM9,
        LPT0-LPT9, COM/LPT with superscript 1-3, CONIN$, CONOUT$; any case;
        with or without an extension; "CON .txt" too) gets a '_' prefix;
      - an empty result becomes "untitled" (or "_" when max < 8).
    The result is never empty, never "." or "..", has no '/', '\\', NUL or
    control character, is valid UTF-8 and is at most `max` bytes.

    Error codes: the int-returning functions return SP_PATH_OK (0) or one of
    the negative SP_PATH_ERR_* codes below; I/O failures also leave errno set.
    None of them aborts on bad input.
*/
#ifndef SOULPIPE_PATH_H
#define SOULPIPE_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define SP_PATH_NAME_MAX     255   //  bytes per path component (Linux NAME_MAX)
#define SP_PATH_EXT_MAX      32    //  bytes kept of an extension by _ext()
#define SP_PATH_TMPNAME_SIZE 32    //  buffer size for sp_path_open_tmp_at names
#define SP_PATH_REMOTE_MAX   4096  //  longest remote path sp_path_remote_new takes

typedef enum {
    SP_PATH_OK = 0,
    SP_PATH_ERR_INVALID = -1,  //  bad argument or unsafe component (empty,
                               //  ".", "..", contains '/', too long)
    SP_PATH_ERR_ESCAPE = -2,   //  result would leave the root (backstop)
    SP_PATH_ERR_SYMLINK = -3,  //  a component is a symlink (not followed)
    SP_PATH_ERR_NOTDIR = -4,   //  a component exists and is not a directory
    SP_PATH_ERR_EXISTS = -5,   //  final name exists and overwrite was false
    SP_PATH_ERR_IO = -6,       //  other system call failure (see errno)
    SP_PATH_ERR_NOMEM = -7     //  out of memory
} sp_path_err_t;

/*  A short English description of an SP_PATH_* code (static string). */
const char *sp_path_strerror (int code);

// ------------------------------------------------------------ sanitizing

/*  Sanitize a NUL-terminated outside name into one safe path component of at
    most SP_PATH_NAME_MAX bytes (rules above). NULL is treated as "".
    Caller owns the returned string (free()); NULL only when out of memory. */
char *sp_path_sanitize (const char *name);

/*  The same with a custom byte limit: max is clamped to 1..255 (0 means 255).
    Caller owns the returned string; NULL only when out of memory. */
char *sp_path_sanitize_max (const char *name, size_t max);

/*  The same for a length-given name that may contain NUL bytes (each becomes
    '_'). name may be NULL when len is 0. Caller owns the returned string;
    NULL only when out of memory. */
char *sp_path_sanitize_n (const char *name, size_t len, size_t max);

/*  Build "<stem>.<ext>" of at most max bytes (clamped like _max): the stem is
    sanitized from name and cut so that the whole fits; ext (without its dot;
    leading dots are dropped) is sanitized too and kept to at most
    SP_PATH_EXT_MAX bytes and max/2 bytes. A NULL or (after sanitizing) empty
    ext, or max < 4, gives just the sanitized name. A reserved stem ("CON" +
    "flac") is prefixed ("_CON.flac"). Caller owns the returned string; NULL
    only when out of memory. */
char *sp_path_sanitize_ext (const char *name, const char *ext, size_t max);

/*  True when nothing of name survives sanitizing: the result would be the
    fallback ("untitled") or only '_' and spaces (".", "..", "...", "   ",
    "///", "???"). Such names cannot tell playlists apart. NULL is "". */
bool sp_path_is_degenerate (const char *name);

/*  The folder (and m3u8 stem) of a playlist named name whose stable id is
    id (a Spotify playlist id, a hash; may be NULL or ""): the sanitized
    name, or "<sanitized name> [<id>]" (the name cut on a UTF-8 boundary so
    the whole fits SP_PATH_NAME_MAX; the id sanitized and cut to 64 bytes)
    when with_id is true or the name is degenerate (then "untitled [<id>]").
    Without an id the suffix is left out. Caller owns the returned string
    (free()); NULL only when out of memory. */
char *sp_path_playlist_folder (const char *name, const char *id, bool with_id);

/*  True when name is a safe component as the sanitizer would produce it
    (sp_path_sanitize(name) would return it unchanged). */
bool sp_path_is_safe (const char *name);

/*  The extension of a file name: a pointer into name just after the last
    '.', or "" when there is none (or the only dot is the first byte).
    Borrowed from name. */
const char *sp_path_ext (const char *name);

// ------------------------------------------------------------ joining

/*  Join n already-sanitized components under root into "root/c1/.../cn"
    (one '/' between parts; a trailing '/' on root is not doubled). Refuses
    with SP_PATH_ERR_INVALID a NULL or empty root, and any component that is
    NULL, empty, ".", "..", contains '/' or is longer than SP_PATH_NAME_MAX;
    then checks as a backstop that the result still starts with root + '/'
    and has no ".." segment (SP_PATH_ERR_ESCAPE). n == 0 gives a copy of root.
    On SP_PATH_OK *out is set and the caller owns it (free()); on error *out
    is set to NULL. */
int sp_path_join (const char *root, const char *const *components, size_t n, char **out);

// ------------------------------------------------------------ safe creation

/*  Open root (a directory; the root itself may be a symlink, it is trusted
    configuration) and then, one component at a time, create (mode 0777 &
    ~umask, EEXIST is fine) and open each component with
    openat(O_DIRECTORY|O_NOFOLLOW): a symlink anywhere below root is refused
    with SP_PATH_ERR_SYMLINK, a non-directory with SP_PATH_ERR_NOTDIR.
    Components are checked like sp_path_join. On SP_PATH_OK *dirfd_out is an
    open O_DIRECTORY fd of the last directory (root itself when n == 0);
    the caller owns it and must close() it. On error *dirfd_out is -1 and
    nothing is left open (directories already created stay). */
int sp_path_mkdirs_at (const char *root, const char *const *components, size_t n, int *dirfd_out);

/*  The same starting from an already open directory fd (borrowed: not
    closed). *dirfd_out is a new fd (a dup of rootfd when n == 0). */
int sp_path_mkdirs_fd (int rootfd, const char *const *components, size_t n, int *dirfd_out);

/*  Create a new, empty temporary file in dirfd for a file that will become
    final_name (a safe component, checked), with O_CREAT|O_EXCL|O_NOFOLLOW
    and mode 0666 & ~umask. The temporary name is hidden (".sp-<16 hex>.tmp")
    and written to tmpname_out, which must hold SP_PATH_TMPNAME_SIZE bytes
    (the new file is flock'ed through *fd_out, see sp_path_sweep_tmp_at)
    (tmpname_size smaller gives SP_PATH_ERR_INVALID). On SP_PATH_OK *fd_out
    is open for writing; the caller owns it. Write the data, close the fd (or
    keep it; commit fsyncs by name either way), then call sp_path_commit_at,
    or sp_path_discard_at to give up. */
int sp_path_open_tmp_at (int dirfd, const char *final_name, char *tmpname_out, size_t tmpname_size,
                         int *fd_out);

/*  Make the temporary file tmpname in dirfd durable under final_name: fsync
    the file's data, rename it (overwrite true: replaces an existing file
    atomically; overwrite false: renameat2(RENAME_NOREPLACE), or
    linkat+unlinkat where the file system lacks it), then fsync dirfd.
    Returns SP_PATH_OK, SP_PATH_ERR_EXISTS when final_name exists and
    overwrite is false (the temporary file is then LEFT in place, so the
    caller can commit it under another name or discard it),
    SP_PATH_ERR_INVALID for unsafe names, SP_PATH_ERR_SYMLINK when tmpname is
    a symlink, or SP_PATH_ERR_IO. */
int sp_path_commit_at (int dirfd, const char *tmpname, const char *final_name, bool overwrite);

/*  Remove a temporary file made by sp_path_open_tmp_at. Returns SP_PATH_OK
    (also when it is already gone) or SP_PATH_ERR_INVALID/SP_PATH_ERR_IO. */
int sp_path_discard_at (int dirfd, const char *tmpname);

/*  Remove the temporary files (".sp-<16 hex>.tmp", also with ".<ext>"
    added) in dirfd that a writer
    killed before its commit left behind: files whose mtime is at least
    min_age_s seconds old and that no process holds locked
    (sp_path_open_tmp_at takes an flock on its file, released when the fd is
    closed or the process dies). Returns the number removed, or -1 when the
    folder cannot be read. */
int sp_path_sweep_tmp_at (int dirfd, int min_age_s);

// ------------------------------------------------------------ remote paths

/*  A Soulseek remote path ("@@music\\Artist\\2001 - Album\\01 - Song.flac")
    split on '\\' and '/' into its non-empty components, RAW (not
    sanitized: callers sanitize what they put on disk). Opaque. */
typedef struct _sp_path_remote_t sp_path_remote_t;

/*  Split remote. Returns NULL when remote is NULL, longer than
    SP_PATH_REMOTE_MAX bytes, has no component at all (e.g. "\\\\"), or on out
    of memory. Caller owns the result (sp_path_remote_destroy). */
sp_path_remote_t *sp_path_remote_new (const char *remote);

/*  Free and NULL *self_p; accepts NULL and a NULL *self_p. */
void sp_path_remote_destroy (sp_path_remote_t **self_p);

/*  Number of components (>= 1). */
size_t sp_path_remote_count (const sp_path_remote_t *self);

/*  Component i (0-based), or NULL when i is out of range. Borrowed. */
const char *sp_path_remote_part (const sp_path_remote_t *self, size_t i);

/*  The file name (the last component). Borrowed, never NULL. */
const char *sp_path_remote_file (const sp_path_remote_t *self);

/*  The last directory (the component before the file name), or NULL when
    the path is only a file name. Borrowed. */
const char *sp_path_remote_dir (const sp_path_remote_t *self);

/*  Convenience: split remote and return copies of its last directory and
    file name. Returns SP_PATH_OK and sets *file_out (never NULL) and
    *dir_out (NULL when there is no directory); the caller owns both
    (free()). dir_out may be NULL when not wanted. Returns
    SP_PATH_ERR_INVALID (as for sp_path_remote_new) or SP_PATH_ERR_NOMEM,
    with the outputs set to NULL. */
int sp_path_remote_split (const char *remote, char **dir_out, char **file_out);

#endif
