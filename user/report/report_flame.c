// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "lib/json_util.h"
#include "report/html.h"
#include "report/report_flame.h"

/* The weights a site can have, in the order of its numbers in the data. */
enum { W_RSS, W_ALLOC, W_LIVE, W_NR };
static const char *const weight_names[W_NR] = {
	"RSS growth (pages made resident)", "allocated (--heap)", "live at the end (--heap)",
};

/* Icicle layout: the root ("all") at the top, each program under it, then
 * the stacks root to leaf; a frame's width is its weight with its callees'. */
static const char script[] =
	"(function () {\n"
	"  var data = JSON.parse(document.getElementById('flame-data').textContent);\n"
	"  var svg = document.getElementById('flame-svg'), info = document.getElementById('flame-info');\n"
	"  var select = document.getElementById('flame-weight'), search = document.getElementById('flame-search');\n"
	"  var NS = 'http://www.w3.org/2000/svg', ROW = 18, root, focus, nodes;\n"
	"\n"
	"  function size(b) {\n"
	"    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;\n"
	"    while (Math.abs(b) >= 1024 && i < u.length - 1) { b /= 1024; i++; }\n"
	"    return (i ? b.toFixed(1) : b.toFixed(0)) + ' ' + u[i];\n"
	"  }\n"
	"  function build(w) {\n"
	"    var top = { name: 'all', value: 0, kids: {}, depth: 0, parent: null };\n"
	"    data.sites.forEach(function (s) {\n"
	"      var v = s[2][w], node = top;\n"
	"      if (!(v > 0)) return;\n"
	"      top.value += v;\n"
	"      [s[0]].concat(s[1]).forEach(function (name) {\n"
	"        var kid = node.kids[name];\n"
	"        if (!kid) kid = node.kids[name] = { name: name, value: 0, kids: {}, depth: node.depth + 1, parent: node };\n"
	"        kid.value += v;\n"
	"        node = kid;\n"
	"      });\n"
	"    });\n"
	"    return top;\n"
	"  }\n"
	"  function color(node) {\n"
	"    var h = 0;\n"
	"    for (var i = 0; i < node.name.length; i++) h = (h * 31 + node.name.charCodeAt(i)) >>> 0;\n"
	"    return node.depth === 1 ? 'hsl(210,45%,' + (62 + h % 14) + '%)' : 'hsl(' + (h % 55) + ',' + (62 + h % 25) + '%,' + (58 + h % 12) + '%)';\n"
	"  }\n"
	"  function within(node, top) {\n"
	"    for (; node; node = node.parent) if (node === top) return true;\n"
	"    return false;\n"
	"  }\n"
	"  function draw() {\n"
	"    var width = svg.parentNode.clientWidth || 1200, depth = 0, list = [];\n"
	"    while (svg.firstChild) svg.removeChild(svg.firstChild);\n"
	"    nodes = [];\n"
	"    // The focus's ancestors span the width above it; its subtree is scaled to the width.\n"
	"    (function walk(node, x, w) {\n"
	"      var inside = within(node, focus), kx = x;\n"
	"      list.push([node, x, w]);\n"
	"      depth = Math.max(depth, node.depth);\n"
	"      Object.keys(node.kids).map(function (k) { return node.kids[k]; })\n"
	"        .sort(function (a, b) { return b.value - a.value || (a.name < b.name ? -1 : 1); })\n"
	"        .forEach(function (kid) {\n"
	"          var kw = kid.value / node.value * w;\n"
	"          if (!inside) {\n"
	"            if (within(focus, kid)) walk(kid, 0, width);\n"
	"            return;\n"
	"          }\n"
	"          if (kw >= 0.5) walk(kid, kx, kw);\n"
	"          kx += kw;\n"
	"        });\n"
	"    })(root, 0, width);\n"
	"    svg.setAttribute('width', width);\n"
	"    svg.setAttribute('height', (depth + 1) * ROW);\n"
	"    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + (depth + 1) * ROW);\n"
	"    var q = search.value.toLowerCase(), matched = 0;\n"
	"    list.forEach(function (item) {\n"
	"      var node = item[0], x = item[1], w = item[2], g = document.createElementNS(NS, 'g');\n"
	"      var r = document.createElementNS(NS, 'rect'), hit = q && node.name.toLowerCase().indexOf(q) >= 0;\n"
	"      r.setAttribute('x', x.toFixed(1));\n"
	"      r.setAttribute('y', node.depth * ROW);\n"
	"      r.setAttribute('width', Math.max(w - 0.5, 0.5).toFixed(1));\n"
	"      r.setAttribute('height', ROW - 1);\n"
	"      r.setAttribute('fill', hit ? '#e040e0' : node === root ? '#d8d8d8' : color(node));\n"
	"      if (!within(node, focus)) r.setAttribute('fill-opacity', '0.5');\n"
	"      g.appendChild(r);\n"
	"      if (w > 28) {\n"
	"        var t = document.createElementNS(NS, 'text'), chars = Math.floor((w - 6) / 6.6);\n"
	"        t.setAttribute('x', (x + 3).toFixed(1));\n"
	"        t.setAttribute('y', node.depth * ROW + 13);\n"
	"        t.textContent = node.name.length > chars ? node.name.slice(0, Math.max(chars - 1, 1)) + '\\u2026' : node.name;\n"
	"        g.appendChild(t);\n"
	"      }\n"
	"      g.setAttribute('data-i', nodes.length);\n"
	"      nodes.push(node);\n"
	"      svg.appendChild(g);\n"
	"    });\n"
	"    if (q) {\n"
	"      (function count(node) {\n"
	"        if (node.name.toLowerCase().indexOf(q) >= 0) { matched += node.value; return; }\n"
	"        Object.keys(node.kids).forEach(function (k) { count(node.kids[k]); });\n"
	"      })(focus);\n"
	"      info.textContent = 'search \"' + search.value + '\": ' + size(matched) + ', ' +\n"
	"        (100 * matched / (focus.value || 1)).toFixed(1) + '% of ' + focus.name;\n"
	"    }\n"
	"  }\n"
	"  function describe(node) {\n"
	"    return node.name + ': ' + size(node.value) + ', ' + (100 * node.value / (root.value || 1)).toFixed(1) +\n"
	"      '% of all' + (node.parent ? ', ' + (100 * node.value / node.parent.value).toFixed(1) + '% of ' + node.parent.name : '');\n"
	"  }\n"
	"  function target(ev) {\n"
	"    var g = ev.target.closest('g[data-i]');\n"
	"    return g ? nodes[+g.getAttribute('data-i')] : null;\n"
	"  }\n"
	"  function reset() {\n"
	"    root = build(+select.value);\n"
	"    focus = root;\n"
	"    info.textContent = root.value ? describe(root) + ' (hover a frame; click to zoom in, the top bar to zoom out)' :\n"
	"      'no sites of this kind in this run';\n"
	"    draw();\n"
	"  }\n"
	"  svg.addEventListener('mousemove', function (ev) {\n"
	"    var node = target(ev);\n"
	"    if (node) info.textContent = describe(node);\n"
	"  });\n"
	"  svg.addEventListener('click', function (ev) {\n"
	"    var node = target(ev);\n"
	"    if (!node) return;\n"
	"    focus = node === focus && node.parent ? node.parent : node;\n"
	"    draw();\n"
	"    info.textContent = describe(focus);\n"
	"  });\n"
	"  select.addEventListener('change', reset);\n"
	"  search.addEventListener('input', draw);\n"
	"  window.addEventListener('resize', draw);\n"
	"  reset();\n"
	"})();\n";

/* [program, [frames root -> leaf], [rss, alloc, live]] per site. NULL on ENOMEM. */
static cJSON *site_json(const struct mo_site_rec *site)
{
	cJSON *o = cJSON_CreateArray(), *frames = cJSON_CreateArray(), *w = cJSON_CreateArray();
	double v[W_NR] = { 0 };

	if (site->kind == MO_SITE_OF_RSS)
		v[W_RSS] = (double)site->bytes;
	else
		v[W_ALLOC] = (double)site->bytes, v[W_LIVE] = site->live > 0 ? (double)site->live : 0;
	if (o && frames && w) {
		cJSON_AddItemToArray(o, json_str(site->where.comm ? site->where.comm : "(program unknown)"));
		for (size_t i = 0; i < site->nframes; i++)
			cJSON_AddItemToArray(frames, json_str(site->frames[i]));
		for (int i = 0; i < W_NR; i++)
			cJSON_AddItemToArray(w, cJSON_CreateNumber(v[i]));
		cJSON_AddItemToArray(o, frames);
		cJSON_AddItemToArray(o, w);
		return o;
	}
	cJSON_Delete(o);
	cJSON_Delete(frames);
	cJSON_Delete(w);
	return NULL;
}

/* The sites as JSON that cannot end the script element holding it: every
 * '<' (only ever inside a string) written \u003c. */
static int write_data(FILE *out, const struct mo_run *run)
{
	cJSON *doc = cJSON_CreateObject(), *sites = cJSON_AddArrayToObject(doc, "sites");
	char *text = NULL;
	int err = -ENOMEM;

	for (size_t i = 0; sites && i < run->nsites; i++) {
		cJSON *s = site_json(&run->sites[i]);

		if (!s || !cJSON_AddItemToArray(sites, s)) {
			cJSON_Delete(s);
			goto out;
		}
	}
	text = sites ? cJSON_PrintUnformatted(doc) : NULL;
	if (!text)
		goto out;
	for (const char *p = text; *p; p++)
		if (*p == '<')
			fputs("\\u003c", out);
		else
			fputc(*p, out);
	err = 0;
out:
	free(text);
	cJSON_Delete(doc);
	return err;
}

int report_flame_html(FILE *out, const struct mo_run *run)
{
	bool has[W_NR] = { false };
	int err;

	for (size_t i = 0; i < run->nsites; i++) {
		has[W_RSS] |= run->sites[i].kind == MO_SITE_OF_RSS && run->sites[i].bytes;
		has[W_ALLOC] |= run->sites[i].kind == MO_SITE_OF_ALLOC && run->sites[i].bytes;
		has[W_LIVE] |= run->sites[i].kind == MO_SITE_OF_ALLOC && run->sites[i].live > 0;
	}
	if (!has[W_RSS] && !has[W_ALLOC])
		return 0;
	fputs("<section id=\"flame\"><h2>Flame graph of the sites</h2>\n<p class=\"note\">The sampled stacks, each "
	      "under its program; a frame is as wide as its bytes with its callees'. Hover a frame for its bytes and "
	      "share, click it to zoom in, click it again or a frame above to zoom out; the search colours the "
	      "frames whose name has it.</p>\n<div class=\"flame-bar\"><label>weight <select id=\"flame-weight\">",
	      out);
	for (int w = 0; w < W_NR; w++)
		if (has[w])
			fprintf(out, "<option value=\"%d\">%s</option>", w, weight_names[w]);
	fputs("</select></label> <input id=\"flame-search\" type=\"search\" placeholder=\"search frames\"></div>\n"
	      "<div id=\"flame-info\" class=\"note\">the flame graph needs JavaScript</div>\n<div class=\"flame\">"
	      "<svg id=\"flame-svg\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"monospace\" "
	      "font-size=\"11\"></svg></div>\n<script type=\"application/json\" id=\"flame-data\">", out);
	err = write_data(out, run);
	fprintf(out, "</script>\n<script>\n%s</script>\n</section>\n", script);
	return err;
}
