/*  fuzz_remote_path.c: libFuzzer harness for the Soulseek remote-path
    parser (sp_remote_path_parse) and the scoring that reads its output.

    `make fuzz FUZZ_SECONDS=60` builds and runs it with the seed corpus
    fuzz/corpus/remote_path/ (realistic paths and hostile ones: "..",
    absolute and drive-letter paths, NUL, control characters, reserved
    names, 4 KB names, invalid UTF-8).

    The input (cut at its first NUL, as a C string would be) is parsed. A
    broken invariant calls abort():
      - the return is 0 or -1; on -1 the output is all zeros;
      - on 0 every text field is NUL-terminated inside its buffer and valid
        UTF-8 (cuts happen on character boundaries), the extension is lower
        case letters and digits, disc/track numbers are small and >= 0;
      - parsing through a set (the folder and file-name memos, added twice
        so the second add hits them) gives the same fields as the plain
        parser;
      - for printable ASCII without separators, path_norm equals
        sp_text_normalize (the ASCII fast path agrees with utf8proc);
      - scoring the result against a fixed track does not crash.
*/
#include "soulpipe/match.h"
#include "soulpipe/remote_path.h"
#include "soulpipe/text.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static bool
s_valid_utf8 (const char *s)
{
    const unsigned char *p = (const unsigned char *) s;
    while (*p) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t n = (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0)
            return false;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += n;
    }
    return true;
}

static void
s_check_field (const char *f, size_t cap)
{
    if (!memchr (f, 0, cap))
        abort ();
    if (!s_valid_utf8 (f))
        abort ();
}

static void
s_check (const sp_remote_path_t *p)
{
    s_check_field (p->ext, sizeof p->ext);
    for (const char *e = p->ext; *e; e++)
        if (!((*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9')))
            abort ();
    s_check_field (p->artist, sizeof p->artist);
    s_check_field (p->album, sizeof p->album);
    s_check_field (p->title, sizeof p->title);
    s_check_field (p->artist_norm, sizeof p->artist_norm);
    s_check_field (p->album_norm, sizeof p->album_norm);
    for (int i = 0; i < 3; i++)
        s_check_field (p->title_norm[i], sizeof p->title_norm[i]);
    s_check_field (p->stem_norm, sizeof p->stem_norm);
    s_check_field (p->path_norm, sizeof p->path_norm);
    s_check_field (p->remixer, sizeof p->remixer);
    s_check_field (p->version, sizeof p->version);
    if (p->disc < 0 || p->disc > 999 || p->track < 0 || p->track > 999 || p->part < 0)
        abort ();
}

static void
s_same (const sp_remote_path_t *a, const sp_remote_path_t *b)
{
    if (strcmp (a->ext, b->ext) || strcmp (a->artist, b->artist) || strcmp (a->album, b->album) ||
        strcmp (a->title, b->title) || strcmp (a->artist_norm, b->artist_norm) ||
        strcmp (a->album_norm, b->album_norm) || strcmp (a->stem_norm, b->stem_norm) ||
        strcmp (a->path_norm, b->path_norm) || strcmp (a->remixer, b->remixer) ||
        strcmp (a->version, b->version) || a->disc != b->disc || a->track != b->track ||
        a->year != b->year || a->kinds != b->kinds || a->folder_kinds != b->folder_kinds ||
        a->part != b->part)
        abort ();
    for (int i = 0; i < 3; i++)
        if (strcmp (a->title_norm[i], b->title_norm[i]))
            abort ();
}

static sp_match_track_t *s_track;
static sp_match_prefs_t s_prefs;

static void
s_init (void)
{
    if (s_track)
        return;
    sp_track_t t;
    memset (&t, 0, sizeof t);
    char *artists[] = {"Sigur Rós", "Björk"};
    t.title = "Hoppípolla - Live";
    t.artists = artists;
    t.artists_count = 2;
    t.album = "Takk...";
    t.has_duration_ms = true;
    t.duration_ms = 268000;
    s_track = sp_match_track_new (&t);
    sp_match_prefs_default (&s_prefs);
    if (!s_track)
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_init ();
    char *s = malloc (size + 1);
    if (!s)
        return 0;
    memcpy (s, data, size);
    s[size] = 0;
    sp_remote_path_t *p = malloc (sizeof *p);
    if (!p) {
        free (s);
        return 0;
    }
    int rc = sp_remote_path_parse (s, p);
    if (rc != 0 && rc != -1)
        abort ();
    if (rc == -1) {
        static const sp_remote_path_t zero;
        if (memcmp (p, &zero, sizeof zero) != 0)
            abort ();
    } else {
        s_check (p);
        bool plain = true;
        for (const char *c = s; *c && plain; c++)
            plain =
                (unsigned char) *c >= 0x20 && (unsigned char) *c < 0x7F && *c != '/' && *c != '\\';
        if (plain && *s) {
            char *want = sp_text_normalize (s);
            if (want && strncmp (want, p->path_norm, sizeof p->path_norm - 1) != 0)
                abort ();
            free (want);
        }
    }
    //  through a set, twice: the second add is served by the memos
    sp_match_set_t *set = sp_match_set_new ();
    if (set) {
        for (int k = 0; k < 2; k++) {
            sp_match_result_t r;
            memset (&r, 0, sizeof r);
            r.username = "fuzz";
            r.filename = s;
            r.length = 268;
            r.bitrate = 320;
            int added = sp_match_set_add (set, &r);
            if ((added == 0) != (rc == 0))
                abort ();
            if (added == 0)
                s_same (p, &sp_match_set_get (set, (size_t) k)->path);
        }
        sp_match_set_rank (set, s_track, &s_prefs, NULL, 0, NULL, NULL, 0);
        sp_match_set_destroy (&set);
    }
    free (p);
    free (s);
    return 0;
}
