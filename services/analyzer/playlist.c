/*  playlist.c: the in-memory list of one submission (see playlist.h). */
#include "playlist.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sp_playlist_t *
sp_playlist_new (void)
{
    sp_playlist_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->name = strdup ("");
    self->source = strdup ("");
    if (!self->name || !self->source)
        sp_playlist_destroy (&self);
    return self;
}

void
sp_playlist_destroy (sp_playlist_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_playlist_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        sp_track_clear (&self->entries[i].track);
        free (self->entries[i].unusable);
    }
    free (self->entries);
    for (size_t i = 0; i < self->notes_count; i++)
        free (self->notes[i]);
    free (self->notes);
    free (self->name);
    free (self->source);
    free (self);
    *self_p = NULL;
}

sp_playlist_entry_t *
sp_playlist_add (sp_playlist_t *self)
{
    if (!self || self->count >= SP_PLAYLIST_MAX_ENTRIES)
        return NULL;
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        sp_playlist_entry_t *e = realloc (self->entries, cap * sizeof *e);
        if (!e)
            return NULL;
        self->entries = e;
        self->cap = cap;
    }
    sp_playlist_entry_t *e = &self->entries[self->count++];
    memset (e, 0, sizeof *e);
    return e;
}

void
sp_playlist_cut_utf8 (char *dst, size_t n, const char *s)
{
    if (!dst || n == 0)
        return;
    size_t len = s ? strlen (s) : 0;
    if (len >= n) {
        len = n - 1;
        //  back off continuation bytes so no code point is cut in half
        while (len > 0 && ((unsigned char) s[len] & 0xC0) == 0x80)
            len--;
    }
    if (len)
        memcpy (dst, s, len);
    dst[len] = '\0';
}

int
sp_playlist_note (sp_playlist_t *self, const char *fmt, ...)
{
    char buf[SP_MSG_MAX_TEXT + 1];
    char tmp[4096];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (tmp, sizeof tmp, fmt, ap);
    va_end (ap);
    sp_playlist_cut_utf8 (buf, sizeof buf, tmp);
    return sp_msg_strv_add (&self->notes, &self->notes_count, buf) == SP_MSG_OK ? 0 : -1;
}
