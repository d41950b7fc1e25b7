/*
 * record.c: the growable list of annotation records and the release of a record's owned
 * strings, shared by the importers, the store and the write API.
 */
#include "annotation/record.h"

#include <stdlib.h>
#include <string.h>

struct anno_record *anno_list_add(struct anno_list *list)
{
	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 64;
		if (cap > SIZE_MAX / sizeof *list->items)
			return NULL;
		struct anno_record *items = realloc(list->items, cap * sizeof *items);
		if (!items)
			return NULL;
		list->items = items;
		list->cap = cap;
	}
	struct anno_record *rec = &list->items[list->count++];
	memset(rec, 0, sizeof *rec);
	return rec;
}

void anno_record_release(struct anno_record *rec)
{
	free(rec->id);
	free(rec->manifest);
	free(rec->target_file);
	free(rec->motivation);
	free(rec->text);
	free(rec->language);
	free(rec->granularity);
	free(rec->creator);
	free(rec->generator);
	free(rec->source);
	free(rec->created);
	free(rec->line_id);
	free(rec->polygon);
	memset(rec, 0, sizeof *rec);
}

void anno_list_release(struct anno_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		anno_record_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof *list);
}

char *anno_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}
