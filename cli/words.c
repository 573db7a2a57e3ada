/*
 * words.c - split a -c command string into words as a POSIX shell would,
 * honouring quotes and backslashes and expanding nothing: no variables,
 * globs, tildes or command substitution, so what runs is exactly what
 * the quotes say.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int
push(char ***words, size_t *n, char *w)
{
	char **v = realloc(*words, (*n + 2) * sizeof (char *));

	if (v == NULL)
		return -1;
	v[(*n)++] = w;
	v[*n] = NULL;
	*words = v;
	return 0;
}

int
cli_split_words(const char *s, char ***wordsp, const char **errp)
{
	size_t len = strlen(s), n = 0, o = 0;
	char **words = calloc(1, sizeof (char *));
	char *cur = malloc(len + 1);
	int inword = 0;

	*errp = "out of memory";
	if (words == NULL || cur == NULL)
		goto fail;
	for (const char *p = s; ; p++) {
		char c = *p;

		if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
			if (inword) {
				cur[o] = '\0';
				char *w = strdup(cur);
				if (w == NULL || push(&words, &n, w) != 0)
					goto fail;
				o = 0;
				inword = 0;
			}
			if (c == '\0')
				break;
			continue;
		}
		inword = 1;
		if (c == '\\') {
			if (p[1] == '\0')
				continue;	/* trailing backslash: dropped */
			if (p[1] == '\n') {
				p++;
				continue;	/* line continuation */
			}
			cur[o++] = *++p;
		} else if (c == '\'') {
			const char *q = strchr(p + 1, '\'');
			if (q == NULL) {
				*errp = "unterminated single quote";
				goto fail;
			}
			memcpy(cur + o, p + 1, q - p - 1);
			o += q - p - 1;
			p = q;
		} else if (c == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0') {
					*errp = "unterminated double quote";
					goto fail;
				}
				if (*p == '\\' && p[1] != '\0' &&
				    strchr("\\\"$`\n", p[1]) != NULL) {
					p++;
					if (*p == '\n')
						continue;
				}
				cur[o++] = *p;
			}
		} else {
			cur[o++] = c;
		}
	}
	free(cur);
	*wordsp = words;
	*errp = NULL;
	return (int)n;
fail:
	free(cur);
	cli_free_words(words);
	return -1;
}

void
cli_free_words(char **words)
{
	if (words == NULL)
		return;
	for (char **w = words; *w != NULL; w++)
		free(*w);
	free(words);
}
