#include "smtp/receiver.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { ST_READY, ST_MAIL, ST_RCPT, ST_DATA, ST_DONE };

#define MAX_ERRORS 10

void recv_sm_init(struct recv_sm *sm, const char *domain, const char *hostname,
		  size_t max_message, bool (*want)(void *, const char *),
		  void *arg)
{
	memset(sm, 0, sizeof(*sm));
	sm->domain = domain;
	sm->hostname = hostname;
	sm->max_message = max_message;
	sm->want = want;
	sm->arg = arg;
	sm->state = ST_READY;
}

bool recv_sm_in_data(const struct recv_sm *sm)
{
	return sm->state == ST_DATA;
}

void recv_sm_greeting(const struct recv_sm *sm, char *reply, size_t sz)
{
	snprintf(reply, sz, "220 %s relayprobe receiver ready", sm->hostname);
}

static bool verb(const char *line, size_t len, const char *v)
{
	size_t n = strlen(v);
	return len >= n && strncasecmp(line, v, n) == 0 &&
	       (len == n || line[n] == ' ' || line[n] == ':');
}

/* Extracts the address between < and > after "FROM:"/"TO:". */
static bool path(const char *line, size_t len, char *out, size_t outsz)
{
	const char *lt = memchr(line, '<', len);
	if (!lt)
		return false;
	const char *gt = memchr(lt, '>', len - (size_t)(lt - line));
	if (!gt)
		return false;
	size_t n = (size_t)(gt - lt - 1);
	if (n >= outsz)
		return false;
	memcpy(out, lt + 1, n);
	out[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)out[i]))
			return false;
	return true;
}

static enum recv_event err(struct recv_sm *sm, char *reply, size_t sz,
			   const char *text)
{
	snprintf(reply, sz, "%s", text);
	if (++sm->errors >= MAX_ERRORS) {
		snprintf(reply, sz, "421 4.7.0 too many errors");
		return RECV_CLOSE;
	}
	return RECV_NONE;
}

enum recv_event recv_sm_line(struct recv_sm *sm, const char *line, size_t len,
			     char *reply, size_t sz)
{
	reply[0] = '\0';
	if (sm->state == ST_DATA) {
		if (len == 1 && line[0] == '.') {
			sm->state = ST_READY;
			if (sm->too_big) {
				sm->ntokens = 0;
				return err(sm, reply, sz,
					   "552 5.3.4 message too big");
			}
			snprintf(reply, sz, "250 2.0.0 received, thank you");
			return RECV_MESSAGE;
		}
		sm->msglen += len + 2;
		if (sm->msglen > sm->max_message)
			sm->too_big = true;
		return RECV_NONE;
	}
	if (memchr(line, '\0', len))
		return err(sm, reply, sz, "500 5.5.2 NUL in command");
	if (verb(line, len, "EHLO")) {
		sm->state = ST_READY;
		snprintf(reply, sz, "250-%s\r\n250-SIZE %zu\r\n250 8BITMIME",
			 sm->hostname, sm->max_message);
		return RECV_NONE;
	}
	if (verb(line, len, "HELO")) {
		sm->state = ST_READY;
		snprintf(reply, sz, "250 %s", sm->hostname);
		return RECV_NONE;
	}
	if (verb(line, len, "QUIT")) {
		snprintf(reply, sz, "221 2.0.0 bye");
		return RECV_CLOSE;
	}
	if (verb(line, len, "RSET")) {
		sm->state = ST_READY;
		sm->ntokens = 0;
		snprintf(reply, sz, "250 2.0.0 ok");
		return RECV_NONE;
	}
	if (verb(line, len, "NOOP")) {
		snprintf(reply, sz, "250 2.0.0 ok");
		return RECV_NONE;
	}
	if (verb(line, len, "MAIL")) {
		if (sm->state != ST_READY)
			return err(sm, reply, sz, "503 5.5.1 bad sequence");
		if (!path(line, len, sm->from, sizeof(sm->from)))
			return err(sm, reply, sz, "501 5.1.7 bad sender");
		sm->state = ST_MAIL;
		sm->ntokens = 0;
		sm->msglen = 0;
		sm->too_big = false;
		snprintf(reply, sz, "250 2.1.0 ok");
		return RECV_NONE;
	}
	if (verb(line, len, "RCPT")) {
		char addr[300];
		if (sm->state != ST_MAIL && sm->state != ST_RCPT)
			return err(sm, reply, sz, "503 5.5.1 bad sequence");
		if (!path(line, len, addr, sizeof(addr)))
			return err(sm, reply, sz, "501 5.1.3 bad recipient");
		char *at = strrchr(addr, '@');
		if (!at || strcasecmp(at + 1, sm->domain) != 0)
			return err(sm, reply, sz,
				   "550 5.7.1 relaying denied: this receiver "
				   "only takes probe tokens");
		*at = '\0';
		for (char *p = addr; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!probe_token_valid(addr) || !sm->want(sm->arg, addr))
			return err(sm, reply, sz,
				   "550 5.1.1 no test is waiting for this "
				   "recipient");
		if (sm->ntokens >= RECV_MAX_RCPTS)
			return err(sm, reply, sz, "452 4.5.3 too many recipients");
		snprintf(sm->tokens[sm->ntokens++], PROBE_TOKEN_MAX, "%s", addr);
		sm->state = ST_RCPT;
		snprintf(reply, sz, "250 2.1.5 ok");
		return RECV_NONE;
	}
	if (verb(line, len, "DATA")) {
		if (sm->state != ST_RCPT)
			return err(sm, reply, sz, "503 5.5.1 bad sequence");
		sm->state = ST_DATA;
		snprintf(reply, sz, "354 end with <CRLF>.<CRLF>");
		return RECV_NONE;
	}
	return err(sm, reply, sz, "502 5.5.2 command not implemented");
}
