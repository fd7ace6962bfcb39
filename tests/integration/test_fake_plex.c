/*  test_fake_plex.c: soulpipe-fake's Plex side: /identity without a token,
    401 without the right X-Plex-Token, sections (default and fixture), the
    track listing paged by headers and by query with totalSize, JSON only with
    Accept: application/json (XML otherwise), refresh counting.
*/
#include "test_fake_util.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fk_t s_fk;

static void
s_teardown (void)
{
    fk_stop (&s_fk);
}

#define JSON_HDR  "Accept: application/json"
#define TOKEN_HDR "X-Plex-Token: plextok"

static void
s_start (int ntracks, const char *sections)
{
    fk_init (&s_fk);
    fk_write (&s_fk, "plex/token", "plextok\n");
    if (sections)
        fk_write (&s_fk, "plex/sections.json", sections);
    json_t *tracks = json_array ();
    for (int i = 0; i < ntracks; i++) {
        char title[64], file[128];
        snprintf (title, sizeof title, "Title %03d", i);
        snprintf (file, sizeof file, "/music/A/B/%03d.flac", i);
        json_array_append_new (
            tracks, json_pack ("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:[{s:[{s:s}]}]}", "ratingKey",
                               title + 6, "title", title, "grandparentTitle", "Artist & Co",
                               "parentTitle", "Album", "index", i % 12 + 1, "parentIndex", 1,
                               "duration", 180000 + i, "Media", "Part", "file", file));
    }
    char *text = json_dumps (tracks, 0);
    fk_write (&s_fk, "plex/tracks.json", text);
    free (text);
    json_decref (tracks);
    cr_assert_eq (fk_start (&s_fk, NULL), 0);
}

Test (fake_plex, identity_auth_and_formats, .fini = s_teardown)
{
    s_start (3, NULL);
    fk_resp_t r;
    const char *json_only[] = {JSON_HDR, NULL};
    cr_assert_eq (fk_http (&s_fk, "GET", "/identity", json_only, NULL, &r), 200);
    cr_assert_not_null (
        json_object_get (json_object_get (r.json, "MediaContainer"), "machineIdentifier"));
    fk_resp_free (&r);

    cr_assert_eq (fk_http (&s_fk, "GET", "/library/sections", json_only, NULL, &r), 401);
    fk_resp_free (&r);
    const char *wrong[] = {JSON_HDR, "X-Plex-Token: nope", NULL};
    cr_assert_eq (fk_http (&s_fk, "GET", "/library/sections", wrong, NULL, &r), 401);
    fk_resp_free (&r);

    const char *ok[] = {JSON_HDR, TOKEN_HDR, NULL};
    cr_assert_eq (fk_http (&s_fk, "GET", "/library/sections", ok, NULL, &r), 200);
    json_t *dir = json_object_get (json_object_get (r.json, "MediaContainer"), "Directory");
    cr_assert_eq (json_array_size (dir), 1);
    cr_assert_str_eq (json_string_value (json_object_get (json_array_get (dir, 0), "key")), "1");
    cr_assert_str_eq (json_string_value (json_object_get (json_array_get (dir, 0), "type")),
                      "artist");
    fk_resp_free (&r);

    //  token as a query parameter; no Accept header: XML
    cr_assert_eq (fk_http (&s_fk, "GET", "/library/sections/1/all?type=10&X-Plex-Token=plextok",
                           NULL, NULL, &r),
                  200);
    cr_assert_null (r.json);
    cr_assert (strstr (r.body, "<MediaContainer") && strstr (r.body, "totalSize=\"3\""), "%s",
               r.body);
    cr_assert (strstr (r.body, "grandparentTitle=\"Artist &amp; Co\""), "%s", r.body);
    cr_assert (strstr (r.body, "<Part file=\"/music/A/B/000.flac\"/>"), "%s", r.body);
    fk_resp_free (&r);

    cr_assert_eq (fk_http (&s_fk, "GET", "/library/sections/9/all?type=10", ok, NULL, &r), 404);
    fk_resp_free (&r);
}

//  Page through the listing; headers or query. Returns the count seen.
static int
s_page_all (bool as_headers, int page)
{
    int seen = 0, start = 0, total = -1;
    char last[64] = "";
    do {
        char path[256], h1[64], h2[64];
        const char *hdrs[5] = {JSON_HDR, TOKEN_HDR, NULL, NULL, NULL};
        if (as_headers) {
            snprintf (path, sizeof path, "/library/sections/1/all?type=10");
            snprintf (h1, sizeof h1, "X-Plex-Container-Start: %d", start);
            snprintf (h2, sizeof h2, "X-Plex-Container-Size: %d", page);
            hdrs[2] = h1;
            hdrs[3] = h2;
        } else
            snprintf (path, sizeof path,
                      "/library/sections/1/all?type=10&X-Plex-Container-Start=%d"
                      "&X-Plex-Container-Size=%d",
                      start, page);
        fk_resp_t r;
        cr_assert_eq (fk_http (&s_fk, "GET", path, hdrs, NULL, &r), 200);
        json_t *mc = json_object_get (r.json, "MediaContainer");
        total = (int) json_integer_value (json_object_get (mc, "totalSize"));
        cr_assert_eq (json_integer_value (json_object_get (mc, "offset")), start);
        char *th = fk_header (&r, "X-Plex-Container-Total-Size");
        cr_assert_not_null (th);
        cr_assert_eq (atoi (th), total);
        free (th);
        json_t *md = json_object_get (mc, "Metadata");
        size_t i;
        json_t *t;
        json_array_foreach (md, i, t)
        {
            const char *title = json_string_value (json_object_get (t, "title"));
            cr_assert_gt (strcmp (title, last), 0, "order or duplicates across pages");
            snprintf (last, sizeof last, "%s", title);
            cr_assert (json_is_string (json_object_get (t, "ratingKey")));
            seen++;
        }
        cr_assert_leq ((int) json_array_size (md), page);
        fk_resp_free (&r);
        start += page;
    } while (start < total);
    return seen;
}

Test (fake_plex, paging, .fini = s_teardown)
{
    s_start (250, NULL);
    cr_assert_eq (s_page_all (true, 100), 250);
    cr_assert_eq (s_page_all (false, 64), 250);

    //  size 0: only the total; no size: everything
    fk_resp_t r;
    const char *ok[] = {JSON_HDR, TOKEN_HDR, NULL};
    fk_http (&s_fk, "GET", "/library/sections/1/all?type=10&X-Plex-Container-Size=0", ok, NULL, &r);
    json_t *mc = json_object_get (r.json, "MediaContainer");
    cr_assert_eq (json_integer_value (json_object_get (mc, "totalSize")), 250);
    cr_assert_eq (json_integer_value (json_object_get (mc, "size")), 0);
    cr_assert_null (json_object_get (mc, "Metadata"));
    fk_resp_free (&r);
    fk_http (&s_fk, "GET", "/library/sections/1/all?type=10", ok, NULL, &r);
    cr_assert_eq (
        json_array_size (json_object_get (json_object_get (r.json, "MediaContainer"), "Metadata")),
        250);
    fk_resp_free (&r);
    fk_http (&s_fk, "GET", "/library/sections/1/all?type=10&title=title%20007", ok, NULL, &r);
    cr_assert_eq (json_integer_value (
                      json_object_get (json_object_get (r.json, "MediaContainer"), "totalSize")),
                  1);
    fk_resp_free (&r);
}

Test (fake_plex, refresh_counted, .fini = s_teardown)
{
    s_start (1, "[{\"key\":\"3\",\"type\":\"artist\",\"title\":\"Tunes\"},"
                "{\"key\":\"4\",\"type\":\"movie\",\"title\":\"Films\"}]");
    fk_resp_t r;
    const char *ok[] = {JSON_HDR, TOKEN_HDR, NULL};
    cr_assert_eq (fk_http (&s_fk, "GET", "/library/sections/3/refresh", ok, NULL, &r), 200);
    fk_resp_free (&r);
    cr_assert_eq (fk_http (&s_fk, "POST", "/library/sections/3/refresh?force=1", ok, "", &r), 200);
    fk_resp_free (&r);
    cr_assert_eq (fk_http (&s_fk, "POST", "/library/sections/4/refresh", ok, "", &r), 200);
    fk_resp_free (&r);
    cr_assert_eq (fk_http (&s_fk, "GET", "/library/sections/1/refresh", ok, NULL, &r), 404);
    fk_resp_free (&r);
    const char *noauth[] = {JSON_HDR, NULL};
    cr_assert_eq (fk_http (&s_fk, "GET", "/library/sections/3/refresh", noauth, NULL, &r), 401);
    fk_resp_free (&r);
    //  tracks without librarySectionID belong to the first music section
    fk_http (&s_fk, "GET", "/library/sections/3/all?type=10", ok, NULL, &r);
    cr_assert_eq (json_integer_value (
                      json_object_get (json_object_get (r.json, "MediaContainer"), "totalSize")),
                  1);
    fk_resp_free (&r);

    json_t *st = fk_stats (&s_fk);
    json_t *refresh = json_object_get (json_object_get (st, "plex"), "refresh");
    cr_assert_eq (json_integer_value (json_object_get (refresh, "3")), 2);
    cr_assert_eq (json_integer_value (json_object_get (refresh, "4")), 1);
    cr_assert_null (json_object_get (refresh, "1"));
    json_decref (st);
    cr_assert_eq (fk_stop (&s_fk), 0, "the fake must exit 0 (and leak-free under SAN)");
}
