/* icpkit._native: the per-record scorer's clause walk, in C.
 *
 * The Python scorer (icpkit/score/python.py) generates one straight-line function per spec. In CPython, that
 * function's bytecode dispatch is most of what one lead costs at form fill, so the walk over criteria and exclusions
 * (read the field, test the value, add points, note the id) runs here instead, on a program the Python side builds
 * from the same compiled clauses. Only the common value types are decided here: text, whole and decimal numbers,
 * booleans, null, lists of text and plain YYYY-MM-DD dates. For anything else the clause's own Python test is
 * called, exactly where the generated code calls it, so the two paths cannot disagree (tests hold them equal on
 * random specs and records). Text is normalised by the scorer's Python function, once per spelling: its memo is the
 * same dictionary the generated code uses.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { K_CALL = 0, K_TEXT, K_NUMBER, K_RANGE, K_ITEMS, K_FLAG, K_EXISTS, K_DATE };
enum { ITEMS_ANY = 0, ITEMS_ALL, ITEMS_NONE };
enum { NO = 0, YES = 1, UNKNOWN = 2, FAILED = -1 };

typedef struct {
    PyObject *field; /* str */
    PyObject *test;  /* the clause's Python test: called for any value the kind does not decide here */
    PyObject *set;   /* K_TEXT/K_NUMBER: the spec's values; K_ITEMS: the wanted items */
    PyObject *lo;    /* K_RANGE: lower bound or NULL */
    PyObject *hi;    /* K_RANGE: upper bound or NULL */
    double lo_d, hi_d; /* K_RANGE: the bounds as doubles, where they are exactly so (lo_exact, hi_exact) */
    int lo_exact, hi_exact;
    long first, last; /* K_DATE: yyyymmdd bounds */
    int kind;
    int flag; /* K_TEXT/K_NUMBER: negate; K_ITEMS: ITEMS_*; K_FLAG: the wanted boolean */
} Clause;

typedef struct {
    PyObject *id;
    Py_ssize_t slot; /* accumulator the points go to */
    long long points;
    Py_ssize_t first, count; /* its clauses in the program's clause array */
} Rule;

typedef struct {
    PyObject_HEAD
    Clause *clauses;
    Py_ssize_t nclauses;
    Rule *criteria;
    Py_ssize_t ncriteria;
    Rule *exclusions;
    Py_ssize_t nexclusions;
    Py_ssize_t nslots;   /* accumulators: the layers with a layer score, then one for the rest */
    PyObject *divider;   /* first item of the lazy layer-score tuple */
    PyObject *memo;      /* dict: text -> normal form */
    PyObject *norm;      /* the normal form of one text (Python) */
    PyObject *item_set;  /* the reference reading of a list value (Python) */
    PyObject *iso;       /* the scorer's YYYY-MM-DD reader (Python) */
    Py_ssize_t memo_max;
} Program;

static PyObject *GET;   /* "get" */

/* One run's memory of the last list value read for a contains clause and its set of normal forms: several
 * criteria and exclusions on one list field (the technographic layer) read it once. Lives on the C stack, so two
 * threads scoring with one program never share it. */
typedef struct {
    PyObject *value; /* owned */
    PyObject *set;   /* owned */
} Walk;

/* ------------------------------------------------------------------------------------------- value helpers */

/* The normal form of a text (new reference), remembered in the memo while it has room. */
static PyObject *
normal(Program *p, PyObject *s)
{
    PyObject *n = PyDict_GetItemWithError(p->memo, s);
    if (n != NULL) {
        Py_INCREF(n);
        return n;
    }
    if (PyErr_Occurred())
        return NULL;
    n = PyObject_CallOneArg(p->norm, s);
    if (n == NULL)
        return NULL;
    if (PyDict_GET_SIZE(p->memo) < p->memo_max && PyDict_SetItem(p->memo, s, n) < 0) {
        Py_DECREF(n);
        return NULL;
    }
    return n;
}

static int
outcome_of(PyObject *r)
{
    if (r == NULL)
        return FAILED;
    int o = r == Py_True ? YES : r == Py_None ? UNKNOWN : NO;
    Py_DECREF(r);
    return o;
}

static int
call_test(Clause *c, PyObject *v)
{
    return outcome_of(PyObject_CallOneArg(c->test, v));
}

static int
is_blank_char(Py_UCS4 ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static int
has_text(PyObject *s)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++)
        if (!is_blank_char(PyUnicode_READ(kind, data, i)))
            return 1;
    return 0;
}

/* yyyymmdd of a plain ASCII YYYY-MM-DD text naming a real day, or -1. */
static long
iso_day(PyObject *s)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (PyUnicode_GET_LENGTH(s) != 10 || !PyUnicode_IS_ASCII(s))
        return -1;
    const char *t = (const char *)PyUnicode_DATA(s);
    if (t[4] != '-' || t[7] != '-')
        return -1;
    long n[8];
    static const int at[] = {0, 1, 2, 3, 5, 6, 8, 9};
    for (int i = 0; i < 8; i++) {
        char ch = t[at[i]];
        if (ch < '0' || ch > '9')
            return -1;
        n[i] = ch - '0';
    }
    long y = n[0] * 1000 + n[1] * 100 + n[2] * 10 + n[3], m = n[4] * 10 + n[5], d = n[6] * 10 + n[7];
    if (y < 1 || m < 1 || m > 12 || d < 1)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > days[m - 1] + (m == 2 && leap))
        return -1;
    return y * 10000 + m * 100 + d;
}

static long
date_day(PyObject *d)
{
    return PyDateTime_GET_YEAR(d) * 10000L + PyDateTime_GET_MONTH(d) * 100L + PyDateTime_GET_DAY(d);
}

/* ------------------------------------------------------------------------------------------------ clauses */

static int
test_text(Program *p, Clause *c, PyObject *v)
{
    if (PyUnicode_CheckExact(v)) {
        PyObject *s = normal(p, v);
        if (s == NULL)
            return FAILED;
        if (PyUnicode_GET_LENGTH(s) == 0) {
            Py_DECREF(s);
            return UNKNOWN;
        }
        int in = PySet_Contains(c->set, s);
        Py_DECREF(s);
        if (in < 0)
            return FAILED;
        return in != c->flag ? YES : NO;
    }
    if (v == Py_None)
        return UNKNOWN;
    return call_test(c, v);
}

/* 1: an int or a float that is a number, 2: a NaN float, 0: another value */
static int
number_kind(PyObject *v)
{
    if (PyFloat_CheckExact(v))
        return Py_IS_NAN(PyFloat_AS_DOUBLE(v)) ? 2 : 1;
    return PyLong_CheckExact(v) ? 1 : 0;
}

/* ``x`` as a double that equals it exactly (a float, or an int within 2**53): then comparing doubles is comparing the
 * numbers, as Python compares an int with a float */
static int
exact_double(PyObject *x, double *out)
{
    if (PyFloat_CheckExact(x)) {
        *out = PyFloat_AS_DOUBLE(x);
        return 1;
    }
    if (PyLong_CheckExact(x)) {
        int overflow;
        long long n = PyLong_AsLongLongAndOverflow(x, &overflow);
        if (!overflow && n >= -(1LL << 53) && n <= (1LL << 53)) {
            *out = (double)n;
            return 1;
        }
        PyErr_Clear();
    }
    return 0;
}

static int
test_number(Clause *c, PyObject *v)
{
    int k = number_kind(v);
    if (k == 1) {
        int in = PySet_Contains(c->set, v);
        return in < 0 ? FAILED : in != c->flag ? YES : NO;
    }
    return k == 2 || v == Py_None ? UNKNOWN : call_test(c, v);
}

static int
test_range(Clause *c, PyObject *v)
{
    int k = number_kind(v);
    if (k == 1) {
        double d;
        int exact = exact_double(v, &d), ok = 1;
        if (c->lo != NULL)
            ok = exact && c->lo_exact ? c->lo_d <= d : PyObject_RichCompareBool(c->lo, v, Py_LE);
        if (ok > 0 && c->hi != NULL)
            ok = exact && c->hi_exact ? d <= c->hi_d : PyObject_RichCompareBool(v, c->hi, Py_LE);
        return ok < 0 ? FAILED : ok ? YES : NO;
    }
    return k == 2 || v == Py_None ? UNKNOWN : call_test(c, v);
}

/* Whether any item of ``items`` is (stop 1) or is not (stop 0) in ``in``: 1 when one is found, 0 if none, -1. */
static int
find_item(PyObject *items, PyObject *in, int stop)
{
    PyObject *it = PyObject_GetIter(items), *w;
    if (it == NULL)
        return -1;
    int found = 0;
    while (!found && (w = PyIter_Next(it)) != NULL) {
        int has = PySet_Contains(in, w);
        Py_DECREF(w);
        if (has < 0) {
            Py_DECREF(it);
            return -1;
        }
        found = has == stop;
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : found;
}

static int
decide_items(Clause *c, PyObject *have)
{
    if (c->flag == ITEMS_ALL) { /* every wanted item is there: none is missing */
        int missing = find_item(c->set, have, 0);
        return missing < 0 ? FAILED : missing ? NO : YES;
    }
    /* any / none: whether one item of the smaller set is in the larger */
    int small = PySet_GET_SIZE(have) < PySet_GET_SIZE(c->set);
    int any = find_item(small ? have : c->set, small ? c->set : have, 1);
    return any < 0 ? FAILED : (any != (c->flag == ITEMS_NONE)) ? YES : NO;
}

/* A list or text value's set of normal forms (new reference), with the blank item dropped; NULL with no error set
 * when the value is none of the plain kinds (then the reference reading decides). */
static PyObject *
items_of(Program *p, PyObject *v, int *missing)
{
    *missing = 0;
    if (PyUnicode_CheckExact(v)) {
        PyObject *s = normal(p, v);
        if (s == NULL)
            return NULL;
        if (PyUnicode_GET_LENGTH(s) == 0) {
            Py_DECREF(s);
            *missing = 1;
            return NULL;
        }
        PyObject *set = PySet_New(NULL);
        if (set != NULL && PySet_Add(set, s) < 0)
            Py_CLEAR(set);
        Py_DECREF(s);
        return set;
    }
    if (!PyList_CheckExact(v))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(v);
    for (Py_ssize_t i = 0; i < n; i++)
        if (!PyUnicode_CheckExact(PyList_GET_ITEM(v, i)))
            return NULL;
    PyObject *set = PySet_New(NULL);
    if (set == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(v); i++) {
        PyObject *x = PyList_GET_ITEM(v, i);
        Py_INCREF(x);
        PyObject *s = normal(p, x);
        Py_DECREF(x);
        if (s == NULL || (PyUnicode_GET_LENGTH(s) > 0 && PySet_Add(set, s) < 0)) {
            Py_XDECREF(s);
            Py_DECREF(set);
            return NULL;
        }
        Py_DECREF(s);
    }
    return set;
}

static int
test_items(Program *p, Clause *c, PyObject *v, Walk *w)
{
    if (v == Py_None)
        return UNKNOWN;
    if (w->value == v)
        return decide_items(c, w->set);
    int missing;
    PyObject *have = items_of(p, v, &missing);
    if (have != NULL) {
        Py_XSETREF(w->value, Py_NewRef(v));
        Py_XSETREF(w->set, Py_NewRef(have));
    }
    if (have == NULL) {
        if (PyErr_Occurred())
            return FAILED;
        if (missing)
            return UNKNOWN;
        /* the generated code's route for other values: the reference reading, then its verdict or the test */
        have = PyObject_CallOneArg(p->item_set, v);
        if (have == NULL)
            return FAILED;
        if (have == Py_None) {
            Py_DECREF(have);
            return UNKNOWN;
        }
        if (!PySet_CheckExact(have)) {
            Py_DECREF(have);
            return call_test(c, v);
        }
    }
    int o = decide_items(c, have);
    Py_DECREF(have);
    return o;
}

static int
test_flag(Clause *c, PyObject *v)
{
    PyObject *want = c->flag ? Py_True : Py_False;
    if (v == want)
        return YES;
    if (v == Py_None)
        return UNKNOWN;
    if (v == (c->flag ? Py_False : Py_True))
        return NO;
    return call_test(c, v);
}

static int
test_exists(Clause *c, PyObject *v)
{
    if (v == Py_None)
        return NO;
    if (PyUnicode_CheckExact(v))
        return has_text(v) ? YES : NO;
    int k = number_kind(v);
    return k == 1 ? YES : k == 2 ? NO : call_test(c, v);
}

static int
test_date(Program *p, Clause *c, PyObject *v)
{
    long day = -1;
    if (PyDate_CheckExact(v))
        day = date_day(v);
    else if (PyUnicode_CheckExact(v)) {
        day = iso_day(v);
        if (day < 0) { /* not the plain form as read here: the scorer's own reader decides, as generated code */
            PyObject *d = PyObject_CallOneArg(p->iso, v);
            if (d == NULL)
                return FAILED;
            if (PyDate_CheckExact(d))
                day = date_day(d);
            Py_DECREF(d);
            if (day < 0)
                return call_test(c, v);
        }
    }
    else if (v == Py_None)
        return UNKNOWN;
    else
        return call_test(c, v);
    return c->first <= day && day <= c->last ? YES : NO;
}

static int
test_clause(Program *p, Clause *c, PyObject *record, int exact, Walk *w)
{
    PyObject *v;
    if (exact) {
        v = PyDict_GetItemWithError(record, c->field);
        if (v == NULL) {
            if (PyErr_Occurred())
                return FAILED;
            v = Py_None;
        }
        Py_INCREF(v);
    }
    else {
        v = PyObject_CallMethodOneArg(record, GET, c->field);
        if (v == NULL)
            return FAILED;
    }
    int o;
    switch (c->kind) {
    case K_TEXT: o = test_text(p, c, v); break;
    case K_NUMBER: o = test_number(c, v); break;
    case K_RANGE: o = test_range(c, v); break;
    case K_ITEMS: o = test_items(p, c, v, w); break;
    case K_FLAG: o = test_flag(c, v); break;
    case K_EXISTS: o = test_exists(c, v); break;
    case K_DATE: o = test_date(p, c, v); break;
    default: o = call_test(c, v);
    }
    Py_DECREF(v);
    return o;
}

/* Kleene AND of a rule's clauses, stopping at the first no (an unknown does not stop it). */
static int
test_rule(Program *p, Rule *r, PyObject *record, int exact, Walk *w)
{
    int acc = test_clause(p, &p->clauses[r->first], record, exact, w);
    for (Py_ssize_t i = 1; i < r->count && acc != NO && acc != FAILED; i++) {
        int d = test_clause(p, &p->clauses[r->first + i], record, exact, w);
        if (d != YES)
            acc = d;
    }
    return acc;
}

/* ---------------------------------------------------------------------------------------------- the type */

static PyObject *
Program_run(Program *p, PyObject *record)
{
    int exact = PyDict_CheckExact(record);
    long long sums[64] = {0};
    Walk w = {NULL, NULL};
    PyObject *matched = PyList_New(0), *unknown = PyList_New(0), *hit = PyList_New(0);
    if (matched == NULL || unknown == NULL || hit == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < p->ncriteria; i++) {
        Rule *r = &p->criteria[i];
        int o = test_rule(p, r, record, exact, &w);
        if (o == FAILED)
            goto fail;
        if (o == YES) {
            if (PyList_Append(matched, r->id) < 0)
                goto fail;
            sums[r->slot] += r->points;
        }
        else if (o == UNKNOWN && PyList_Append(unknown, r->id) < 0)
            goto fail;
    }
    for (Py_ssize_t i = 0; i < p->nexclusions; i++) {
        Rule *r = &p->exclusions[i];
        int o = test_rule(p, r, record, exact, &w);
        if (o == FAILED || (o == YES && PyList_Append(hit, r->id) < 0) ||
            (o == UNKNOWN && PyList_Append(unknown, r->id) < 0))
            goto fail;
    }
    PyObject *out = PyTuple_New(5), *lazy = PyTuple_New(p->nslots); /* lazy: the divider, then layer points */
    long long points = 0;
    if (out == NULL || lazy == NULL)
        goto fail_out;
    Py_INCREF(p->divider);
    PyTuple_SET_ITEM(lazy, 0, p->divider);
    for (Py_ssize_t s = 0; s < p->nslots; s++) {
        points += sums[s];
        if (s + 1 < p->nslots) {
            PyObject *g = PyLong_FromLongLong(sums[s]);
            if (g == NULL)
                goto fail_out;
            PyTuple_SET_ITEM(lazy, s + 1, g);
        }
    }
    PyObject *total = PyLong_FromLongLong(points);
    if (total == NULL)
        goto fail_out;
    PyTuple_SET_ITEM(out, 0, matched);
    PyTuple_SET_ITEM(out, 1, unknown);
    PyTuple_SET_ITEM(out, 2, hit);
    PyTuple_SET_ITEM(out, 3, total);
    PyTuple_SET_ITEM(out, 4, lazy);
    Py_XDECREF(w.value);
    Py_XDECREF(w.set);
    return out;
fail_out:
    Py_XDECREF(out);
    Py_XDECREF(lazy);
fail:
    Py_XDECREF(w.value);
    Py_XDECREF(w.set);
    Py_XDECREF(matched);
    Py_XDECREF(unknown);
    Py_XDECREF(hit);
    return NULL;
}

/* One clause spec from Python: (field, kind, test, arg1, arg2, flag). */
static int
read_clause(PyObject *spec, Clause *c)
{
    PyObject *field, *test, *a1, *a2;
    int kind, flag;
    if (!PyArg_ParseTuple(spec, "UiOOOi", &field, &kind, &test, &a1, &a2, &flag))
        return -1;
    if (kind < K_CALL || kind > K_DATE) {
        PyErr_Format(PyExc_ValueError, "unknown clause kind %d", kind);
        return -1;
    }
    c->kind = kind;
    c->flag = flag;
    Py_INCREF(field);
    c->field = field;
    Py_INCREF(test);
    c->test = test;
    if (kind == K_TEXT || kind == K_NUMBER || kind == K_ITEMS) {
        if (!PyFrozenSet_CheckExact(a1)) {
            PyErr_SetString(PyExc_TypeError, "a clause's values must be a frozenset");
            return -1;
        }
        Py_INCREF(a1);
        c->set = a1;
    }
    else if (kind == K_RANGE) {
        c->lo = a1 == Py_None ? NULL : (Py_INCREF(a1), a1);
        c->hi = a2 == Py_None ? NULL : (Py_INCREF(a2), a2);
        c->lo_exact = c->lo != NULL && exact_double(c->lo, &c->lo_d);
        c->hi_exact = c->hi != NULL && exact_double(c->hi, &c->hi_d);
    }
    else if (kind == K_DATE) {
        if (!PyDate_Check(a1) || !PyDate_Check(a2)) {
            PyErr_SetString(PyExc_TypeError, "a date clause's bounds must be dates");
            return -1;
        }
        c->first = date_day(a1);
        c->last = date_day(a2);
    }
    return 0;
}

/* Rules from Python: a list of (id, slot, points, [clause spec, ...]). */
static int
read_rules(Program *p, PyObject *list, Rule **out, Py_ssize_t *count, Py_ssize_t *next)
{
    if (!PyList_Check(list)) {
        PyErr_SetString(PyExc_TypeError, "rules must be a list");
        return -1;
    }
    Py_ssize_t n = PyList_GET_SIZE(list);
    *out = PyMem_Calloc(n ? n : 1, sizeof(Rule));
    if (*out == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *count = n;
    for (Py_ssize_t i = 0; i < n; i++) {
        Rule *r = &(*out)[i];
        PyObject *id, *clauses;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(list, i), "OnLO!", &id, &r->slot, &r->points, &PyList_Type, &clauses))
            return -1;
        Py_INCREF(id);
        r->id = id;
        if (r->slot < 0 || r->slot >= p->nslots) {
            PyErr_SetString(PyExc_ValueError, "a rule's slot is out of range");
            return -1;
        }
        r->first = *next;
        r->count = PyList_GET_SIZE(clauses);
        if (r->count < 1) {
            PyErr_SetString(PyExc_ValueError, "a rule needs at least one clause");
            return -1;
        }
        for (Py_ssize_t k = 0; k < r->count; k++) {
            if (*next >= p->nclauses) {
                PyErr_SetString(PyExc_ValueError, "more clauses than announced");
                return -1;
            }
            if (read_clause(PyList_GET_ITEM(clauses, k), &p->clauses[(*next)++]) < 0)
                return -1;
        }
    }
    return 0;
}

static int
Program_traverse(Program *p, visitproc visit, void *arg)
{
    for (Py_ssize_t i = 0; i < p->nclauses && p->clauses; i++) {
        Py_VISIT(p->clauses[i].test);
        Py_VISIT(p->clauses[i].set);
        Py_VISIT(p->clauses[i].lo);
        Py_VISIT(p->clauses[i].hi);
    }
    Py_VISIT(p->divider);
    Py_VISIT(p->memo);
    Py_VISIT(p->norm);
    Py_VISIT(p->item_set);
    Py_VISIT(p->iso);
    return 0;
}

static int
Program_clear(Program *p)
{
    for (Py_ssize_t i = 0; i < p->nclauses && p->clauses; i++) {
        Py_CLEAR(p->clauses[i].field);
        Py_CLEAR(p->clauses[i].test);
        Py_CLEAR(p->clauses[i].set);
        Py_CLEAR(p->clauses[i].lo);
        Py_CLEAR(p->clauses[i].hi);
    }
    for (Py_ssize_t i = 0; i < p->ncriteria && p->criteria; i++)
        Py_CLEAR(p->criteria[i].id);
    for (Py_ssize_t i = 0; i < p->nexclusions && p->exclusions; i++)
        Py_CLEAR(p->exclusions[i].id);
    Py_CLEAR(p->divider);
    Py_CLEAR(p->memo);
    Py_CLEAR(p->norm);
    Py_CLEAR(p->item_set);
    Py_CLEAR(p->iso);
    return 0;
}

static void
Program_dealloc(Program *p)
{
    PyObject_GC_UnTrack(p);
    Program_clear(p);
    PyMem_Free(p->clauses);
    PyMem_Free(p->criteria);
    PyMem_Free(p->exclusions);
    Py_TYPE(p)->tp_free((PyObject *)p);
}

static PyObject *
Program_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"criteria", "exclusions", "slots", "divider", "memo", "memo_max", "norm", "item_set",
                            "iso", NULL};
    PyObject *criteria, *exclusions, *divider, *memo, *norm, *item_set, *iso;
    Py_ssize_t nslots, memo_max;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!nOO!nOOO", names, &PyList_Type, &criteria, &PyList_Type,
                                     &exclusions, &nslots, &divider, &PyDict_Type, &memo, &memo_max, &norm,
                                     &item_set, &iso))
        return NULL;
    if (nslots < 1 || nslots > 64) {
        PyErr_SetString(PyExc_ValueError, "slots must be 1 to 64");
        return NULL;
    }
    Program *p = (Program *)type->tp_alloc(type, 0);
    if (p == NULL)
        return NULL;
    p->nslots = nslots;
    p->memo_max = memo_max;
    Py_INCREF(divider);
    p->divider = divider;
    Py_INCREF(memo);
    p->memo = memo;
    Py_INCREF(norm);
    p->norm = norm;
    Py_INCREF(item_set);
    p->item_set = item_set;
    Py_INCREF(iso);
    p->iso = iso;
    Py_ssize_t total = 0;
    PyObject *lists[2] = {criteria, exclusions};
    for (int l = 0; l < 2; l++)
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lists[l]); i++) {
            PyObject *rule = PyList_GET_ITEM(lists[l], i);
            PyObject *clauses = PyTuple_Check(rule) && PyTuple_GET_SIZE(rule) == 4 ? PyTuple_GET_ITEM(rule, 3) : NULL;
            if (clauses == NULL || !PyList_Check(clauses)) {
                PyErr_SetString(PyExc_TypeError, "a rule is (id, slot, points, [clauses])");
                Py_DECREF(p);
                return NULL;
            }
            total += PyList_GET_SIZE(clauses);
        }
    p->clauses = PyMem_Calloc(total ? total : 1, sizeof(Clause));
    if (p->clauses == NULL) {
        Py_DECREF(p);
        return PyErr_NoMemory();
    }
    p->nclauses = total;
    Py_ssize_t next = 0;
    if (read_rules(p, criteria, &p->criteria, &p->ncriteria, &next) < 0 ||
        read_rules(p, exclusions, &p->exclusions, &p->nexclusions, &next) < 0) {
        Py_DECREF(p);
        return NULL;
    }
    return (PyObject *)p;
}

static PyMethodDef Program_methods[] = {
    {"run", (PyCFunction)Program_run, METH_O,
     "run(record) -> (matched ids, unknown ids, exclusion ids hit, points, (divider, layer points...))"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ProgramType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "icpkit._native.Program",
    .tp_basicsize = sizeof(Program),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A spec's criteria and exclusions, compiled for the C clause walk.",
    .tp_new = Program_new,
    .tp_dealloc = (destructor)Program_dealloc,
    .tp_traverse = (traverseproc)Program_traverse,
    .tp_clear = (inquiry)Program_clear,
    .tp_methods = Program_methods,
};

/* ------------------------------------------------------------------------------------ request validation */

static int
plain_scalar(PyObject *v, Py_ssize_t max_string, int short_body, int finite)
{
    if (PyUnicode_CheckExact(v))
        return short_body || PyUnicode_GET_LENGTH(v) <= max_string;
    if (PyFloat_CheckExact(v))
        return finite || isfinite(PyFloat_AS_DOUBLE(v));
    return v == Py_None || v == Py_True || v == Py_False || PyLong_CheckExact(v);
}

/* record_ok(obj, max_fields, max_key, max_string, max_list, short, finite) -> bool
 *
 * True when the API's request reader (icpkit.api.limits.read_record) would accept ``obj`` as it is; False sends it
 * down that reader's own walk, which accepts what this does not decide or names the field that breaks a rule. */
static PyObject *
record_ok(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "record_ok takes 7 arguments");
        return NULL;
    }
    PyObject *obj = args[0];
    Py_ssize_t lim[4];
    for (int i = 0; i < 4; i++) {
        lim[i] = PyLong_AsSsize_t(args[i + 1]);
        if (lim[i] == -1 && PyErr_Occurred())
            return NULL;
    }
    Py_ssize_t max_fields = lim[0], max_key = lim[1], max_string = lim[2], max_list = lim[3];
    int short_body = PyObject_IsTrue(args[5]), finite = PyObject_IsTrue(args[6]);
    if (short_body < 0 || finite < 0)
        return NULL;
    if (!PyDict_CheckExact(obj) || PyDict_GET_SIZE(obj) > max_fields)
        Py_RETURN_FALSE;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(obj, &pos, &k, &v)) {
        if (!PyUnicode_CheckExact(k) || PyUnicode_GET_LENGTH(k) < 1 || PyUnicode_GET_LENGTH(k) > max_key)
            Py_RETURN_FALSE;
        if (PyList_CheckExact(v)) {
            Py_ssize_t n = PyList_GET_SIZE(v);
            if (n > max_list)
                Py_RETURN_FALSE;
            for (Py_ssize_t i = 0; i < n; i++) /* a list's items are checked in full, as the Python walk does */
                if (!plain_scalar(PyList_GET_ITEM(v, i), max_string, 0, 0))
                    Py_RETURN_FALSE;
        }
        else if (!plain_scalar(v, max_string, short_body, finite))
            Py_RETURN_FALSE;
    }
    Py_RETURN_TRUE;
}

/* ---------------------------------------------------------------------------------------------- access lines */

typedef struct {
    char *data;
    size_t len, cap;
} Buffer;

static int
put(Buffer *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
        char *grown = PyMem_Realloc(b->data, cap);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

#define PUT_LITERAL(b, s) put((b), (s), sizeof(s) - 1)

/* An ASCII text's bytes, or NULL when the text is not ASCII (the Python renderer takes the batch then). */
static const char *
ascii_of(PyObject *s, Py_ssize_t *n)
{
    if (!PyUnicode_CheckExact(s) || !PyUnicode_IS_ASCII(s))
        return NULL;
    *n = PyUnicode_GET_LENGTH(s);
    return (const char *)PyUnicode_DATA(s);
}

static const char *const METHODS[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", NULL};

static int
known_method(const char *m, Py_ssize_t n)
{
    for (int i = 0; METHODS[i]; i++)
        if ((Py_ssize_t)strlen(METHODS[i]) == n && memcmp(METHODS[i], m, n) == 0)
            return 1;
    return 0;
}

/* One access line (time, method, path, status, ms, spec_hash, request_id, records) into the buffer: 1 written,
 * 0 not a line this renderer writes, -1 error. */
static int
access_line(Buffer *b, PyObject *t, long long *second, char *stamp)
{
    if (!PyTuple_CheckExact(t) || PyTuple_GET_SIZE(t) != 8)
        return 0;
    PyObject *now_o = PyTuple_GET_ITEM(t, 0), *status_o = PyTuple_GET_ITEM(t, 3), *ms_o = PyTuple_GET_ITEM(t, 4);
    PyObject *records_o = PyTuple_GET_ITEM(t, 7);
    if (!PyFloat_CheckExact(now_o) || !PyLong_CheckExact(status_o) || !PyFloat_CheckExact(ms_o) ||
        !(records_o == Py_None || PyLong_CheckExact(records_o)))
        return 0;
    const char *text[4];
    Py_ssize_t len[4];
    for (int i = 0; i < 4; i++) { /* method, path, spec_hash, request_id */
        text[i] = ascii_of(PyTuple_GET_ITEM(t, i == 0 ? 1 : i == 1 ? 2 : i + 3), &len[i]);
        if (text[i] == NULL)
            return 0;
    }
    if (!known_method(text[0], len[0]))
        return 0;
    double now = PyFloat_AS_DOUBLE(now_o), ms = PyFloat_AS_DOUBLE(ms_o);
    if (!(now >= 0 && now < 253402300800.0) || !isfinite(ms)) /* before year 10000, as Python formats it here */
        return 0;
    long status = PyLong_AsLong(status_o);
    long long records = records_o == Py_None ? -1 : PyLong_AsLongLong(records_o);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    long long sec = (long long)now;
    if (sec != *second) {
        time_t tt = (time_t)sec;
        struct tm tm;
        if (gmtime_r(&tt, &tm) == NULL || strftime(stamp, 32, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
            return 0;
        *second = sec;
    }
    char head[160], tail[96];
    int h = snprintf(head, sizeof head, "{\"ts\":\"%s.%03dZ\",\"method\":\"", stamp, (int)((now - (double)sec) * 1000));
    int n = records < 0 ? snprintf(tail, sizeof tail, "\"}\n")
                        : snprintf(tail, sizeof tail, "\",\"records\":%lld}\n", records);
    char mid[96];
    int m = snprintf(mid, sizeof mid, "\",\"status\":%ld,\"ms\":%.3f,\"spec_hash\":\"", status, ms);
    if (h < 0 || n < 0 || m < 0 || h >= (int)sizeof head || m >= (int)sizeof mid)
        return 0;
    if (put(b, head, h) < 0 || put(b, text[0], len[0]) < 0 || PUT_LITERAL(b, "\",\"path\":\"") < 0 ||
        put(b, text[1], len[1]) < 0 || put(b, mid, m) < 0 || put(b, text[2], len[2]) < 0 ||
        PUT_LITERAL(b, "\",\"request_id\":\"") < 0 || put(b, text[3], len[3]) < 0 || put(b, tail, n) < 0)
        return -1;
    return 1;
}

/* render_access(lines) -> str | None
 *
 * The pending log lines (ready text, or an access line's values) as one text, access lines written as
 * icpkit.api.logs renders them; None when a line is not of the usual kind (then the Python renderer writes the
 * batch). */
static PyObject *
render_access(PyObject *self, PyObject *lines)
{
    if (!PyList_CheckExact(lines)) {
        PyErr_SetString(PyExc_TypeError, "render_access takes a list");
        return NULL;
    }
    Buffer b = {NULL, 0, 0};
    long long second = -1;
    char stamp[32];
    PyObject *out = NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lines); i++) {
        PyObject *x = PyList_GET_ITEM(lines, i);
        Py_ssize_t n;
        const char *s = ascii_of(x, &n);
        int r = s != NULL ? put(&b, s, n) == 0 : access_line(&b, x, &second, stamp);
        if (r <= 0) {
            if (r == 0 && !PyErr_Occurred()) {
                Py_INCREF(Py_None);
                out = Py_None;
            }
            goto done;
        }
    }
    out = PyUnicode_DecodeASCII(b.data ? b.data : "", (Py_ssize_t)b.len, "strict");
done:
    PyMem_Free(b.data);
    return out;
}

static PyMethodDef module_methods[] = {
    {"render_access", (PyCFunction)render_access, METH_O,
     "render_access(lines) -> str | None: pending log lines as text, None when the Python renderer must write them"},
    {"record_ok", (PyCFunction)(void (*)(void))record_ok, METH_FASTCALL,
     "record_ok(obj, max_fields, max_key, max_string, max_list, short, finite) -> bool: accepted as it is"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "icpkit._native",
    .m_doc = "The per-record scorer's clause walk and the API's record check, in C.", .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    GET = PyUnicode_InternFromString("get");
    if (GET == NULL || PyType_Ready(&ProgramType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&ProgramType);
    if (PyModule_AddObject(m, "Program", (PyObject *)&ProgramType) < 0) {
        Py_DECREF(&ProgramType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
