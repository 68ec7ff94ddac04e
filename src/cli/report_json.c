/* `oomkit report --json`: the top table as one JSON document (json-c). */
#include "cli/report.h"

#include <json-c/json.h>

int report_json_print(FILE *out, const struct report_model *m, size_t max_rows)
{
    json_object *root = json_object_new_object();
    json_object_object_add(root, "type", json_object_new_string(m->type_name));
    json_object_object_add(root, "unit", json_object_new_string(m->unit));
    json_object_object_add(root, "total", json_object_new_int64(m->total));
    json_object_object_add(root, "period", json_object_new_int64(m->p->period));
    json_object_object_add(root, "sampled", json_object_new_boolean(m->sampled));
    json_object *rows = json_object_new_array();
    for (size_t i = 0; i < m->n_rows && i < max_rows; i++) {
        const struct report_row *r = &m->rows[i];
        if (r->flat == 0 && r->cum == 0)
            continue;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "function", json_object_new_string(r->function));
        json_object_object_add(o, "file", json_object_new_string(r->file));
        json_object_object_add(o, "line", json_object_new_int64(r->line));
        json_object_object_add(o, "flat", json_object_new_int64(r->flat));
        json_object_object_add(o, "cum", json_object_new_int64(r->cum));
        if (m->sampled && r->flat > 0) {
            json_object_object_add(o, "flat_ci95_lo", json_object_new_int64((int64_t)r->ci_lo));
            json_object_object_add(o, "flat_ci95_hi", json_object_new_int64((int64_t)r->ci_hi));
        }
        json_object_array_add(rows, o);
    }
    json_object_object_add(root, "rows", rows);
    fprintf(out, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY));
    json_object_put(root);
    return 0;
}
