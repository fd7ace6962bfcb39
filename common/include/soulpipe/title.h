/*  title.h: version descriptors in track titles ("- Live", "(Tiësto Remix)").

    Shared by the analyzer's library diff and the searcher's ranking. A title
    is split into a base title and descriptors. Descriptors are recognized
    only where they are marked: after a " - " (also " – " / " — ") separator
    (Spotify style) or inside (), [] or {} (file style). Words of the base
    title are never descriptors ("Live Forever", "Mix Tape", "Alive").
    sp_title_scan_descriptors() is the looser variant for folder names.

    Descriptor classes used by sp_title_compatible():
      neutral   REMASTER, ALBUM_VERSION (album/original version, original
                mix), MONO, STEREO, CLEAN, EXPLICIT, FEAT, EDITION (deluxe,
                anniversary, bonus track, "from <film>"), and the year:
                ignored.
      soft      EDIT (radio edit, single version, short version): a radio
                edit and the album version are the same recording cut to a
                different length, and the searcher's length filter already
                compares durations against the wanted track. So a mismatch
                is accepted, with a note in the reason buffer.
      hard      LIVE, REMIX, EXTENDED, ACOUSTIC, INSTRUMENTAL, DEMO,
                KARAOKE, COVER, SPED_UP, SLOWED, NIGHTCORE, REREC (re-recording,
                "Taylor's Version", "2023 Version"), ACAPPELLA, UNPLUGGED,
                OTHER_VERSION ("Spanish Version", "Piano Version"): these are
                different recordings and must agree.
      identity  PART: the part number stays in the base ("Pt. 2", "Part II"
                and "Part 2" all become "part 2"); two different part
                numbers are incompatible.
*/
#ifndef SOULPIPE_TITLE_H
#define SOULPIPE_TITLE_H

#include <stddef.h>
#include <stdint.h>

#define SP_TITLE_REMASTER      (1u << 0)
#define SP_TITLE_LIVE          (1u << 1)
#define SP_TITLE_REMIX         (1u << 2)
#define SP_TITLE_EXTENDED      (1u << 3)
#define SP_TITLE_EDIT          (1u << 4)
#define SP_TITLE_ALBUM_VERSION (1u << 5)
#define SP_TITLE_ACOUSTIC      (1u << 6)
#define SP_TITLE_INSTRUMENTAL  (1u << 7)
#define SP_TITLE_DEMO          (1u << 8)
#define SP_TITLE_MONO          (1u << 9)
#define SP_TITLE_STEREO        (1u << 10)
#define SP_TITLE_PART          (1u << 11)
#define SP_TITLE_FEAT          (1u << 12)
#define SP_TITLE_REREC         (1u << 13)
#define SP_TITLE_KARAOKE       (1u << 14)
#define SP_TITLE_COVER         (1u << 15)
#define SP_TITLE_SPED_UP       (1u << 16)
#define SP_TITLE_SLOWED        (1u << 17)  //  slowed and/or reverb
#define SP_TITLE_NIGHTCORE     (1u << 18)
#define SP_TITLE_UNPLUGGED     (1u << 19)
#define SP_TITLE_ACAPPELLA     (1u << 20)
#define SP_TITLE_CLEAN         (1u << 21)
#define SP_TITLE_EXPLICIT      (1u << 22)
#define SP_TITLE_OTHER_VERSION (1u << 23)
#define SP_TITLE_EDITION       (1u << 24)

#define SP_TITLE_HARD_MASK                                                                         \
    (SP_TITLE_LIVE | SP_TITLE_REMIX | SP_TITLE_EXTENDED | SP_TITLE_ACOUSTIC |                      \
     SP_TITLE_INSTRUMENTAL | SP_TITLE_DEMO | SP_TITLE_KARAOKE | SP_TITLE_COVER |                   \
     SP_TITLE_SPED_UP | SP_TITLE_SLOWED | SP_TITLE_NIGHTCORE | SP_TITLE_REREC |                    \
     SP_TITLE_ACAPPELLA | SP_TITLE_UNPLUGGED | SP_TITLE_OTHER_VERSION)
#define SP_TITLE_SOFT_MASK (SP_TITLE_EDIT)

#define SP_TITLE_TEXT_MAX 512  //  bytes per text field, NUL included

typedef struct {
    uint32_t kinds;                    //  SP_TITLE_* bit set
    int year;                          //  year in a descriptor, 0 if none
    int part;                          //  part number, 0 if none
    char base[SP_TITLE_TEXT_MAX];      //  base title, matching form
                                       //  (sp_text_normalize), parts
                                       //  canonical ("part 2")
    char base_raw[SP_TITLE_TEXT_MAX];  //  base title as written, for
                                       //  search queries
    char remixer[SP_TITLE_TEXT_MAX];   //  remixer/editor, matching form
    char version[SP_TITLE_TEXT_MAX];   //  OTHER_VERSION text, matching
                                       //  form ("spanish")
    char feat[SP_TITLE_TEXT_MAX];      //  featured artists as written,
                                       //  joined with ", "
} sp_title_t;

/*  Parse a Spotify or file title (no extension, no track number) into *out
    (fully overwritten; nothing to free). Texts longer than the fields are
    cut on a UTF-8 boundary. Returns 0, or -1 when title/out is NULL or the
    title is not valid UTF-8 (out is then zeroed). */
int sp_title_parse (const char *title, sp_title_t *out);

/*  Descriptor kinds found anywhere in free text such as a folder name
    ("MTV Unplugged in New York", "Live at Budokan", "Greatest Hits
    (Remastered)"). Marked segments count as in sp_title_parse(); unmarked
    words count only for unambiguous phrases: "live at/in/from/on",
    "unplugged", "karaoke", "instrumentals", "remixes"/"remixed",
    "covers"/"tribute", "a cappella(s)", "in the style of", "originally
    performed by", "made famous by", "sped up", "slowed", "nightcore",
    "remastered". Returns the bit set; 0 for NULL/invalid input. */
uint32_t sp_title_scan_descriptors (const char *text);

/*  Decide whether a found file's version agrees with the wanted one (see
    the classes above). found->kinds may be or-ed with the result of
    sp_title_scan_descriptors() on its folder names before the call.
    Unplugged counts as live, karaoke as instrumental and cover, nightcore
    as sped up. Returns 1 when compatible (reason gets "" or a note such as
    "radio edit vs full length: left to the length filter"), 0 when not
    (reason says why, e.g. "live version", "not the live version asked
    for", "different remix (hardwell, not tiesto)"), -1 when wanted or found
    is NULL. reason may be NULL; it is always NUL-terminated when n > 0. */
int sp_title_compatible (const sp_title_t *wanted, const sp_title_t *found, char *reason, size_t n);

/*  Same decision on bare kind sets (no remixer/part/version details). */
int sp_title_compatible_kinds (uint32_t wanted, uint32_t found, char *reason, size_t n);

/*  Short English name of one kind bit ("live version", "remix"), or
    "unknown" for anything else. Static string. */
const char *sp_title_kind_name (uint32_t kind);

#endif
