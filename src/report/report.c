#include "report/report.h"

#include <string.h>

#include "core/util.h"

static const struct report_ops *const registry[] = {
	&report_text,
	&report_json,
	&report_nagios,
};

const struct report_ops *report_find(const char *name)
{
	for (size_t i = 0; i < RP_ARRAY_LEN(registry); i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}
