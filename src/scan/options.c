#include "scan/scan.h"

#include <string.h>

/* Polite by default: a provider scanning its customers should not look
 * like an attack to any one of them. */
void scan_options_defaults(struct scan_options *o)
{
	memset(o, 0, sizeof(*o));
	o->concurrency = 256;
	o->rate = 200;
	o->per_address = 3;
	o->max_cidr_bits = 16;
	o->relay = o->audit = o->blocklist = true;
	o->progress = -1;
}
