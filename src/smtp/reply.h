/*
 * smtp/reply: a bounded, incremental parser for SMTP server replies
 * (RFC 5321 §4.2). It is fed raw bytes as they arrive and hands back one
 * complete reply at a time: the three-digit code, the RFC 3463 enhanced
 * status code of the first line, and each line's text with the code (and a
 * repeated enhanced code) removed.
 *
 * No I/O. Every limit a peer could push is enforced here: line length,
 * total reply size and line count. Text is stored escaped (rp_escape), so a
 * reply can be shown anywhere without further cleaning; flags record what
 * was unusual (bare LF, non-printable bytes).
 *
 * Ownership: a struct smtp_reply owns its strings; release with
 * smtp_reply_clear(). The parser owns its line buffer.
 */
#ifndef RP_SMTP_REPLY_H
#define RP_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_DEFAULT_MAX_LINE 4096
#define SMTP_DEFAULT_MAX_REPLY (64 * 1024)
#define SMTP_DEFAULT_MAX_LINES 200

struct smtp_limits {
	size_t max_line;  /* bytes in one line, CRLF excluded */
	size_t max_reply; /* bytes in one (multi-line) reply */
	size_t max_lines; /* lines in one reply */
};

enum smtp_reply_flag {
	SMTP_REPLY_BARE_LF = 1 << 0,      /* a line ended in LF without CR */
	SMTP_REPLY_NONPRINTABLE = 1 << 1, /* bytes outside printable ASCII */
};

struct smtp_reply {
	int code;          /* 200..599; 0 when empty */
	char enhanced[16]; /* "5.7.1", or "" when absent */
	char **lines;      /* escaped text of each line, code removed */
	size_t nlines;
	unsigned flags;
};

enum smtp_parse_status {
	SMTP_PARSE_MORE = 0,   /* consumed everything, no complete reply yet */
	SMTP_PARSE_REPLY = 1,  /* *out holds a reply; see *consumed */
	SMTP_PARSE_ERROR = -1, /* protocol violation; err says which */
};

/* Called with each received line, escaped, exactly as the server sent it
 * (code included); used for the transcript. */
typedef void (*smtp_line_cb)(void *arg, const char *escaped_line);

struct smtp_reply_parser {
	struct smtp_limits lim;
	smtp_line_cb on_line; /* optional */
	void *on_line_arg;
	char *line; /* lim.max_line + 1 bytes */
	size_t linelen;
	bool cr_pending; /* last byte seen was CR */
	struct smtp_reply cur;
	size_t cur_size;
};

void smtp_limits_default(struct smtp_limits *lim);

/* Returns 0, or -1 on allocation failure. */
int smtp_reply_parser_init(struct smtp_reply_parser *p,
			   const struct smtp_limits *lim);
void smtp_reply_parser_cleanup(struct smtp_reply_parser *p);
/* True when a partial line or reply is buffered. */
bool smtp_reply_parser_busy(const struct smtp_reply_parser *p);

/*
 * Feeds len bytes. On SMTP_PARSE_REPLY, *out receives ownership of one
 * complete reply (clear it first or pass a zeroed struct) and *consumed says
 * how many input bytes it took; call again with the rest. On
 * SMTP_PARSE_MORE all bytes were consumed. On SMTP_PARSE_ERROR, err holds a
 * one-line reason and the parser must not be fed again.
 */
enum smtp_parse_status smtp_reply_parser_feed(struct smtp_reply_parser *p,
					      const char *data, size_t len,
					      size_t *consumed,
					      struct smtp_reply *out,
					      char *err, size_t errlen);

void smtp_reply_clear(struct smtp_reply *r);
/* Deep copy; returns 0 or -1 on allocation failure (dst left empty). */
int smtp_reply_copy(struct smtp_reply *dst, const struct smtp_reply *src);
/* Lines joined with "\n" into a new heap string (NULL on failure). */
char *smtp_reply_text(const struct smtp_reply *r);
/* Class helpers on the code. */
/* 2xx: the only success for MAIL, RCPT and end-of-data (RFC 5321 §4.3.2;
 * DATA's 354 is checked by itself). */
static inline bool smtp_reply_ok(const struct smtp_reply *r)
{
	return r->code >= 200 && r->code < 300;
}
/* Parses a whole buffer holding exactly one reply (tests, fuzzing). */
int smtp_reply_parse_one(const char *data, size_t len, struct smtp_reply *out,
			 char *err, size_t errlen);

#endif
