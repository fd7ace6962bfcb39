/*  test_analyzer_textlist.c: the plain text list parser (textlist.c):
    "Artist - Title" lines, CSV with a header (any order, quoting, ',' ';'
    and tab), durations, comments and blank lines, bad lines as notes, the
    4 MiB bound, the entry bound and invalid UTF-8. */
#include <criterion/criterion.h>

#include "../../services/analyzer/textlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Parse and assert success; caller destroys.
static sp_playlist_t *
s_parse (const char *text, const char *name)
{
    sp_playlist_t *pl = NULL;
    char err[256] = "";
    cr_assert_eq (sp_textlist_parse (text, name, &pl, err, sizeof err), 0, "%s", err);
    cr_assert_not_null (pl);
    return pl;
}

//  Parse and assert failure; returns the reason in err.
static void
s_refused (const char *text, char *err, size_t n)
{
    sp_playlist_t *pl = (sp_playlist_t *) 0x1;
    cr_assert_eq (sp_textlist_parse (text, NULL, &pl, err, n), -1);
    cr_assert_null (pl);
    cr_assert (err[0], "no reason given");
}

static void
s_expect_track (const sp_playlist_t *pl, size_t i, const char *artist, const char *title)
{
    cr_assert_lt (i, pl->count);
    const sp_track_t *t = &pl->entries[i].track;
    cr_assert_eq (t->artists_count, 1, "entry %zu", i);
    cr_expect_str_eq (t->artists[0], artist, "entry %zu", i);
    cr_expect_str_eq (t->title, title, "entry %zu", i);
    cr_expect_eq (t->position, i);
    cr_expect_null (pl->entries[i].unusable);
}

static bool
s_has_note (const sp_playlist_t *pl, const char *needle)
{
    for (size_t i = 0; i < pl->notes_count; i++)
        if (strstr (pl->notes[i], needle))
            return true;
    return false;
}

static void
s_dump_notes (const sp_playlist_t *pl)
{
    for (size_t i = 0; i < pl->notes_count; i++)
        cr_log_info ("note: %s", pl->notes[i]);
}

// ------------------------------------------------------------ Artist - Title

Test (analyzer_textlist, artist_title_lines)
{
    sp_playlist_t *pl = s_parse ("Queen - Bohemian Rhapsody\n"
                                 "  Daft Punk   -   Get Lucky  \n"
                                 "Eagles - Hotel California - Live\n"
                                 "Sigur R\xc3\xb3s \xe2\x80\x93 Hopp\xc3\xadpolla\n"
                                 "\xd0\x9a\xd0\xb8\xd0\xbd\xd0\xbe \xe2\x80\x94 Song\n"
                                 "AC/DC - Highway to Hell",
                                 "Road trip");
    cr_assert_eq (pl->count, 6);
    cr_expect_str_eq (pl->name, "Road trip");
    cr_expect_str_eq (pl->source, "text");
    s_expect_track (pl, 0, "Queen", "Bohemian Rhapsody");
    s_expect_track (pl, 1, "Daft Punk", "Get Lucky");
    //  the first separator splits: the rest is the title
    s_expect_track (pl, 2, "Eagles", "Hotel California - Live");
    s_expect_track (pl, 3, "Sigur R\xc3\xb3s", "Hopp\xc3\xadpolla");
    s_expect_track (pl, 4, "\xd0\x9a\xd0\xb8\xd0\xbd\xd0\xbe", "Song");
    //  the last line has no newline
    s_expect_track (pl, 5, "AC/DC", "Highway to Hell");
    for (size_t i = 0; i < pl->count; i++) {
        cr_expect_str_eq (pl->entries[i].track.playlist, "Road trip");
        cr_expect (!pl->entries[i].track.has_duration_ms);
        cr_expect_null (pl->entries[i].track.album);
    }
    cr_expect_eq (pl->notes_count, 0);
    sp_playlist_destroy (&pl);
    cr_expect_null (pl);
}

Test (analyzer_textlist, comments_blank_lines_crlf_bom_and_bad_lines)
{
    sp_playlist_t *pl = s_parse ("\xef\xbb\xbf# my list\r\n"
                                 "\r\n"
                                 "   \t\n"
                                 "Queen - Bohemian Rhapsody\r\n"
                                 "   # indented comment - not a track\n"
                                 "just a title without artist\n"
                                 "Queen-Innuendo\n"
                                 "Toto - Africa\r\n",
                                 NULL);
    s_dump_notes (pl);
    cr_expect_str_eq (pl->name, "Text list");
    cr_assert_eq (pl->count, 2);
    s_expect_track (pl, 0, "Queen", "Bohemian Rhapsody");
    s_expect_track (pl, 1, "Toto", "Africa");
    //  bad lines are notes with their line numbers, never failures
    cr_assert_eq (pl->notes_count, 2);
    cr_expect (strstr (pl->notes[0], "line 6:") != NULL, "%s", pl->notes[0]);
    cr_expect (strstr (pl->notes[0], "just a title without artist") != NULL, "%s", pl->notes[0]);
    cr_expect (strstr (pl->notes[1], "line 7:") != NULL, "%s", pl->notes[1]);
    cr_expect (strstr (pl->notes[1], "Artist - Title") != NULL, "%s", pl->notes[1]);
    sp_playlist_destroy (&pl);
}

Test (analyzer_textlist, control_characters_in_a_bad_line_note_are_blanked)
{
    sp_playlist_t *pl = s_parse ("bad\x01line\x1b[31m\n", NULL);
    cr_assert_eq (pl->count, 0);
    cr_assert_eq (pl->notes_count, 1);
    for (const char *c = pl->notes[0]; *c; c++)
        cr_assert_geq ((unsigned char) *c, 0x20, "control character in %s", pl->notes[0]);
    sp_playlist_destroy (&pl);
}

Test (analyzer_textlist, empty_and_comment_only_lists)
{
    const char *inputs[] = {"", "\n\n", "# nothing\n# here\n", "\xef\xbb\xbf"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        sp_playlist_t *pl = s_parse (inputs[i], NULL);
        cr_expect_eq (pl->count, 0, "input %zu", i);
        cr_expect (s_has_note (pl, "holds no tracks"), "input %zu", i);
        sp_playlist_destroy (&pl);
    }
}

// ------------------------------------------------------------ CSV

Test (analyzer_textlist, csv_header_quoting_and_columns)
{
    sp_playlist_t *pl = s_parse ("Title,Artist,Album,Duration,Year\n"
                                 "Bohemian Rhapsody,Queen,A Night at the Opera,5:55,1975\n"
                                 "\"The Boxer, Pt. 2\",\"Simon & Garfunkel\",,308,1969\n"
                                 "\"Say \"\"Hello\"\"\",Someone,\"Multi\nLine Album\",3:05.5,\n"
                                 "  \"Spaced\"  , \"Out\" ,Alb,1:02:03\n"
                                 "Only Title\n",
                                 "CSV");
    s_dump_notes (pl);
    cr_assert_eq (pl->count, 4);
    s_expect_track (pl, 0, "Queen", "Bohemian Rhapsody");
    cr_expect_str_eq (pl->entries[0].track.album, "A Night at the Opera");
    cr_expect (pl->entries[0].track.has_duration_ms);
    cr_expect_eq (pl->entries[0].track.duration_ms, 355000);
    s_expect_track (pl, 1, "Simon & Garfunkel", "The Boxer, Pt. 2");
    cr_expect_null (pl->entries[1].track.album);
    cr_expect_eq (pl->entries[1].track.duration_ms, 308000);
    s_expect_track (pl, 2, "Someone", "Say \"Hello\"");
    cr_expect_str_eq (pl->entries[2].track.album, "Multi\nLine Album");
    cr_expect_eq (pl->entries[2].track.duration_ms, 185500);
    s_expect_track (pl, 3, "Out", "Spaced");
    cr_expect_eq (pl->entries[3].track.duration_ms, 3723000);
    //  the record with no artist is a note naming its line (the quoted
    //  newline counted)
    cr_assert_eq (pl->notes_count, 1);
    cr_expect (strstr (pl->notes[0], "line 7:") != NULL, "%s", pl->notes[0]);
    cr_expect (strstr (pl->notes[0], "artist is empty") != NULL, "%s", pl->notes[0]);
    sp_playlist_destroy (&pl);
}

Test (analyzer_textlist, csv_semicolon_and_tab_and_synonyms)
{
    sp_playlist_t *pl = s_parse ("# exported\n"
                                 "artist;track;length\n"
                                 "Bj\xc3\xb6rk;J\xc3\xb3ga;5:05\n"
                                 "Sigur R\xc3\xb3s;Hopp\xc3\xadpolla, live;268\n",
                                 NULL);
    cr_assert_eq (pl->count, 2);
    s_expect_track (pl, 0, "Bj\xc3\xb6rk", "J\xc3\xb3ga");
    cr_expect_eq (pl->entries[0].track.duration_ms, 305000);
    //  ',' is plain text when ';' separates
    s_expect_track (pl, 1, "Sigur R\xc3\xb3s", "Hopp\xc3\xadpolla, live");
    cr_expect_eq (pl->entries[1].track.duration_ms, 268000);
    sp_playlist_destroy (&pl);

    pl =
        s_parse ("ARTISTS\tNAME\tALBUM\r\nToto\tAfrica\tToto IV\r\n\r\nWeezer\tAfrica\t\r\n", NULL);
    cr_assert_eq (pl->count, 2);
    s_expect_track (pl, 0, "Toto", "Africa");
    cr_expect_str_eq (pl->entries[0].track.album, "Toto IV");
    cr_expect (!pl->entries[0].track.has_duration_ms);
    s_expect_track (pl, 1, "Weezer", "Africa");
    cr_expect_eq (pl->notes_count, 0);
    sp_playlist_destroy (&pl);
}

Test (analyzer_textlist, csv_bad_duration_keeps_the_track_with_a_note)
{
    sp_playlist_t *pl = s_parse ("artist,title,duration\n"
                                 "A,One,abc\n"
                                 "B,Two,3:75\n"
                                 "C,Three,-5\n"
                                 "D,Four,\n"
                                 ",Five,1:00\n",
                                 NULL);
    s_dump_notes (pl);
    cr_assert_eq (pl->count, 4);
    for (size_t i = 0; i < 4; i++)
        cr_expect (!pl->entries[i].track.has_duration_ms, "entry %zu", i);
    cr_assert_eq (pl->notes_count, 4);
    cr_expect (strstr (pl->notes[0], "line 2: duration \"abc\" not understood") != NULL, "%s",
               pl->notes[0]);
    cr_expect (strstr (pl->notes[1], "line 3:") != NULL, "%s", pl->notes[1]);
    cr_expect (strstr (pl->notes[2], "line 4:") != NULL, "%s", pl->notes[2]);
    cr_expect (strstr (pl->notes[3], "line 6: artist is empty") != NULL, "%s", pl->notes[3]);
    sp_playlist_destroy (&pl);
}

Test (analyzer_textlist, a_header_without_artist_and_title_is_not_csv)
{
    //  "name,album" names no artist: the lines are read as Artist - Title
    sp_playlist_t *pl = s_parse ("name,album\nQueen - Innuendo\n", NULL);
    cr_assert_eq (pl->count, 1);
    s_expect_track (pl, 0, "Queen", "Innuendo");
    cr_expect_eq (pl->notes_count, 1);
    sp_playlist_destroy (&pl);
}

// ------------------------------------------------------------ durations

Test (analyzer_textlist, durations)
{
    struct {
        const char *in;
        int ok;
        uint64_t ms;
    } cases[] = {
        {"3:35", 0, 215000},
        {"0:07", 0, 7000},
        {"215", 0, 215000},
        {"215.4", 0, 215400},
        {"1:02:03", 0, 3723000},
        {" 4:00 ", 0, 240000},
        {"12:00:00", 0, 43200000},
        {"24:00:00", 0, 86400000},
        {"24:00:01", -1, 0},
        {"3:60", -1, 0},
        {"1:60:00", -1, 0},
        {"abc", -1, 0},
        {"", -1, 0},
        {"   ", -1, 0},
        {"-5", -1, 0},
        {"3:", -1, 0},
        {":35", -1, 0},
        {"1:2:3:4", -1, 0},
        {"3.5.5", -1, 0},
        {"3:35x", -1, 0},
        {"1234567", -1, 0},
        {"99999999999999999999", -1, 0},
        {"2.", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t ms = 12345;
        int rc = sp_textlist_parse_duration (cases[i].in, &ms);
        cr_expect_eq (rc, cases[i].ok, "\"%s\": rc %d", cases[i].in, rc);
        if (rc == 0 && cases[i].ok == 0)
            cr_expect_eq (ms, cases[i].ms, "\"%s\": %llu ms", cases[i].in, (unsigned long long) ms);
    }
    uint64_t ms;
    cr_expect_eq (sp_textlist_parse_duration (NULL, &ms), -1);
    cr_expect_eq (sp_textlist_parse_duration ("3:00", NULL), -1);
}

// ------------------------------------------------------------ refusals and bounds

Test (analyzer_textlist, invalid_utf8_is_refused)
{
    const char *bad[] = {
        "Queen - Bohemian \xff Rhapsody\n",  //  not a UTF-8 byte
        "A - \xc0\xaf\n",                    //  overlong '/'
        "A - \xe0\x80\xaf\n",                //  overlong, 3 bytes
        "A - \xed\xa0\x80\n",                //  UTF-16 surrogate
        "A - \xf4\x90\x80\x80\n",            //  above U+10FFFF
        "A - \xe2\x82\n",                    //  truncated sequence
        "A - \x80\n",                        //  lone continuation byte
        "artist,title\nA,\xc3\n",            //  truncated at the end
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        s_refused (bad[i], err, sizeof err);
        cr_expect (strstr (err, "UTF-8") != NULL, "case %zu: %s", i, err);
    }
    //  valid 4-byte sequences pass
    sp_playlist_t *pl = s_parse ("\xf0\x9f\x8e\xb5 Band - Song \xf0\x9f\x8e\xb6\n", NULL);
    cr_expect_eq (pl->count, 1);
    sp_playlist_destroy (&pl);
}

Test (analyzer_textlist, null_content_and_null_out)
{
    char err[256] = "";
    s_refused (NULL, err, sizeof err);
    cr_expect (strstr (err, "no content") != NULL, "%s", err);
    cr_expect_eq (sp_textlist_parse ("A - B", NULL, NULL, err, sizeof err), -1);
}

//  A list of exactly `size` bytes made of "a - b\n" lines.
static char *
s_big_list (size_t size)
{
    char *buf = malloc (size + 1);
    cr_assert_not_null (buf);
    static const char line[] = "a - b\n";
    for (size_t i = 0; i < size; i++)
        buf[i] = line[i % (sizeof line - 1)];
    buf[size] = '\0';
    return buf;
}

Test (analyzer_textlist, four_mib_bound_and_entry_bound)
{
    //  one byte over 4 MiB: refused, with what to do about it
    char *big = s_big_list (SP_TEXTLIST_MAX_BYTES + 1);
    char err[256] = "";
    s_refused (big, err, sizeof err);
    cr_expect (strstr (err, "4 MiB") != NULL, "%s", err);
    free (big);

    //  exactly 4 MiB: accepted; ~700,000 lines keep the first 200,000
    //  tracks and say the rest was ignored
    big = s_big_list (SP_TEXTLIST_MAX_BYTES);
    sp_playlist_t *pl = s_parse (big, NULL);
    cr_expect_eq (pl->count, SP_PLAYLIST_MAX_ENTRIES);
    cr_expect (s_has_note (pl, "more than 200000 tracks; the rest is ignored"));
    s_expect_track (pl, SP_PLAYLIST_MAX_ENTRIES - 1, "a", "b");
    sp_playlist_destroy (&pl);
    free (big);
}

Test (analyzer_textlist, csv_entry_bound)
{
    size_t n = SP_PLAYLIST_MAX_ENTRIES + 5;
    size_t cap = 32 + n * 6;
    char *buf = malloc (cap);
    cr_assert_not_null (buf);
    size_t used = (size_t) snprintf (buf, cap, "artist,title\n");
    for (size_t i = 0; i < n; i++) {
        memcpy (buf + used, "a,b\n", 4);
        used += 4;
    }
    buf[used] = '\0';
    sp_playlist_t *pl = s_parse (buf, NULL);
    cr_expect_eq (pl->count, SP_PLAYLIST_MAX_ENTRIES);
    cr_expect (s_has_note (pl, "the rest is ignored"));
    sp_playlist_destroy (&pl);
    free (buf);
}
