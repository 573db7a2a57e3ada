/*
 * flame.c - `dtproc trace -U --svg FILE`: the stacks as a flame graph in
 * one SVG file that needs nothing else (Debian ships no FlameGraph
 * scripts; --folded stays for those who have them).
 *
 * The stacks are merged into a tree by frame name, outermost at the
 * root ("all", at the bottom); a frame's width is its count, its
 * children sit on it left to right by name.  Each frame is a <g> holding
 * its geometry in samples (data-x, data-w, data-d: offset, width, depth)
 * and its name (data-n), so that the inline script can lay the graph out
 * again when a frame is clicked (zoom: the frame fills the width, its
 * ancestors span it, the rest is hidden) and search the names.  The
 * layout written is the unzoomed one, so a viewer without scripts still
 * shows the graph.  Names are written XML-escaped; a byte that is not
 * part of well-formed UTF-8, and a control character (not allowed in
 * XML 1.0 even as a reference), becomes U+FFFD, so the file always
 * parses.
 */
#include "view.h"

#include <stdlib.h>
#include <string.h>

typedef struct cli_fnode {
	char *fn_name;
	uint64_t fn_count;		/* its stacks' counts, inclusive */
	struct cli_fnode *fn_kids;	/* first child */
	struct cli_fnode *fn_next;	/* next sibling */
} cli_fnode_t;

struct cli_flame {
	cli_fnode_t fg_root;		/* "all" */
	int fg_depth;			/* deepest stack, frames */
};

#define FG_WIDTH	1200		/* px */
#define FG_PAD		10		/* px each side */
#define FG_ROW		16		/* px per frame */
#define FG_TOP		60		/* title and search box */
#define FG_BOTTOM	34		/* details line */
#define FG_CHARW	7		/* px per character, 12px monospace */

cli_flame_t *
cli_flame_new(void)
{
	cli_flame_t *fg = calloc(1, sizeof (*fg));

	if (fg != NULL && (fg->fg_root.fn_name = strdup("all")) == NULL) {
		free(fg);
		return NULL;
	}
	return fg;
}

/* The child of P named NAME, made if new; NULL out of memory. */
static cli_fnode_t *
cli_flame_kid(cli_fnode_t *p, const char *name)
{
	cli_fnode_t **pp, *k;

	/* kept sorted by name: the layout is the same whatever the order */
	for (pp = &p->fn_kids; *pp != NULL; pp = &(*pp)->fn_next) {
		int c = strcmp((*pp)->fn_name, name);

		if (c == 0)
			return *pp;
		if (c > 0)
			break;
	}
	if ((k = calloc(1, sizeof (*k))) == NULL ||
	    (k->fn_name = strdup(name)) == NULL) {
		free(k);
		return NULL;
	}
	k->fn_next = *pp;
	*pp = k;
	return k;
}

int
cli_flame_add(cli_flame_t *fg, const char *const *frames, int n,
    uint64_t count)
{
	cli_fnode_t *p = &fg->fg_root;

	p->fn_count += count;
	for (int i = 0; i < n; i++) {
		if ((p = cli_flame_kid(p, frames[i] != NULL ? frames[i] :
		    "?")) == NULL)
			return -1;
		p->fn_count += count;
	}
	if (n > fg->fg_depth)
		fg->fg_depth = n;
	return 0;
}

/* S as XML character data or an attribute value (quotes escaped). */
static void
cli_xml_str(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int n;

		switch (*p) {
		case '&': fputs("&amp;", f); continue;
		case '<': fputs("&lt;", f); continue;
		case '>': fputs("&gt;", f); continue;
		case '"': fputs("&quot;", f); continue;
		case '\'': fputs("&apos;", f); continue;
		default:
			break;
		}
		if (*p < 0x20 || (n = cli_utf8_len(p)) == 0) {
			fputs("&#xfffd;", f);
		} else {
			fwrite(p, 1, (size_t)n, f);
			p += n - 1;
		}
	}
}

/* A warm colour from the name, the same for a name in every graph. */
static void
cli_flame_colour(const char *name, int rgb[3])
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	rgb[0] = 205 + (int)(h % 51);
	rgb[1] = (int)((h >> 8) % 200);
	rgb[2] = (int)((h >> 16) % 56);
}

typedef struct cli_flame_out {
	FILE *fo_f;
	uint64_t fo_total;
	int fo_height;			/* of the whole picture */
	const char *fo_unit;
} cli_flame_out_t;

/* The name cut to fit W pixels ("..": cut), as the script does. */
static void
cli_flame_label(FILE *f, const char *name, double w)
{
	int chars = (int)((w - 6) / FG_CHARW);
	size_t len = strlen(name);
	char *cut;

	if (chars < 3)
		return;
	if (len <= (size_t)chars) {
		cli_xml_str(f, name);
		return;
	}
	/* cut on a character boundary: a UTF-8 sequence stays whole */
	len = (size_t)chars - 2;
	while (len > 0 && ((unsigned char)name[len] & 0xc0) == 0x80)
		len--;
	if ((cut = strndup(name, len)) == NULL)
		return;
	cli_xml_str(f, cut);
	fputs("..", f);
	free(cut);
}

static void
cli_flame_node(const cli_flame_out_t *o, const cli_fnode_t *k, uint64_t x,
    int depth)
{
	FILE *f = o->fo_f;
	double inner = FG_WIDTH - 2 * FG_PAD;
	double px = FG_PAD + inner * (double)x / (double)o->fo_total;
	double w = inner * (double)k->fn_count / (double)o->fo_total;
	int y = o->fo_height - FG_BOTTOM - (depth + 1) * FG_ROW;
	int rgb[3];

	cli_flame_colour(k->fn_name, rgb);
	fprintf(f, "<g class=\"f\" data-x=\"%llu\" data-w=\"%llu\" "
	    "data-d=\"%d\" data-n=\"", (unsigned long long)x,
	    (unsigned long long)k->fn_count, depth);
	cli_xml_str(f, k->fn_name);
	fprintf(f, "\"><title>");
	cli_xml_str(f, k->fn_name);
	fprintf(f, " (%llu %s, %.2f%%)</title>", (unsigned long long)
	    k->fn_count, o->fo_unit, 100.0 * (double)k->fn_count /
	    (double)o->fo_total);
	fprintf(f, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
	    "rx=\"2\" fill=\"rgb(%d,%d,%d)\"/><text x=\"%.2f\" y=\"%d\">",
	    px, y, w, FG_ROW - 1, rgb[0], rgb[1], rgb[2], px + 3,
	    y + FG_ROW - 4);
	cli_flame_label(f, k->fn_name, w);
	fprintf(f, "</text></g>\n");
	for (const cli_fnode_t *c = k->fn_kids; c != NULL; c = c->fn_next) {
		cli_flame_node(o, c, x, depth + 1);
		x += c->fn_count;
	}
}

/*
 * The script: zoom (click), reset (click "all" or "Reset zoom"), hover
 * details, search.  Plain ES5 in a CDATA section: it holds no "]]>".
 */
static const char cli_flame_js[] =
"var NS='http://www.w3.org/2000/svg',W=" "1200" ",PAD=10,CW=7,nodes=[],"
"total=1,zoomed=null,details,matchedt,unit='';\n"
"function fit(g,w){var n=g.getAttribute('data-n'),c=Math.floor((w-6)/CW);"
"if(c<3)return '';return n.length<=c?n:n.substring(0,c-2)+'..';}\n"
"function layout(zx,zw){var inner=W-2*PAD;for(var i=0;i<nodes.length;i++){"
"var g=nodes[i],x=+g.getAttribute('data-x'),w=+g.getAttribute('data-w'),"
"r=g.getElementsByTagName('rect')[0],t=g.getElementsByTagName('text')[0],"
"px,pw;if(x>=zx&&x+w<=zx+zw){px=PAD+inner*(x-zx)/zw;pw=inner*w/zw;"
"g.setAttribute('class','f');}else if(x<=zx&&x+w>=zx+zw){px=PAD;pw=inner;"
"g.setAttribute('class','f anc');}else{g.setAttribute('class','f hid');"
"continue;}r.setAttribute('x',px.toFixed(2));"
"r.setAttribute('width',pw.toFixed(2));t.setAttribute('x',(px+3).toFixed(2));"
"t.textContent=fit(g,pw);}}\n"
"function zoom(g){var x=+g.getAttribute('data-x'),w=+g.getAttribute('data-w');"
"zoomed=(+g.getAttribute('data-d')===0)?null:g;"
"document.getElementById('unzoom').setAttribute('class',zoomed?'btn':'btn hid');"
"if(zoomed)layout(x,w);else layout(0,total);}\n"
"function show(g){details.textContent=g?g.getElementsByTagName('title')[0]"
".textContent:' ';}\n"
"function search(term){var re=null,iv=[],i,sum=0,end=-1;if(term){try{"
"re=new RegExp(term);}catch(e){re=null;}}for(i=0;i<nodes.length;i++){"
"var g=nodes[i],r=g.getElementsByTagName('rect')[0],n=g.getAttribute('data-n'),"
"hit=term&&(re?re.test(n):n.indexOf(term)>=0);"
"if(!r.hasAttribute('data-fill'))r.setAttribute('data-fill',r.getAttribute('fill'));"
"r.setAttribute('fill',hit?'rgb(230,0,230)':r.getAttribute('data-fill'));"
"if(hit){var x=+g.getAttribute('data-x');iv.push([x,x+(+g.getAttribute('data-w'))]);}}"
"iv.sort(function(a,b){return a[0]-b[0];});for(i=0;i<iv.length;i++){"
"if(iv[i][1]<=end)continue;sum+=iv[i][1]-Math.max(iv[i][0],end);end=iv[i][1];}"
"matchedt.textContent=term?'Matched: '+(100*sum/total).toFixed(2)+'%':' ';}\n"
"function init(){var all=document.getElementsByTagName('g');"
"for(var i=0;i<all.length;i++)if(all[i].getAttribute('data-n')!==null){"
"var g=all[i];nodes.push(g);"
"g.addEventListener('click',function(){zoom(this);});"
"g.addEventListener('mouseover',function(){show(this);});"
"g.addEventListener('mouseout',function(){show(null);});"
"if(+g.getAttribute('data-d')===0)total=+g.getAttribute('data-w')||1;}"
"details=document.getElementById('details');"
"matchedt=document.getElementById('matched');"
"document.getElementById('unzoom').addEventListener('click',function(){"
"zoom(nodes[0]);});"
"var box=document.getElementById('search');"
"if(box)box.addEventListener('input',function(){search(this.value);});}\n"
"window.addEventListener('load',init);\n";

static const char cli_flame_css[] =
"text{font-family:monospace;font-size:12px;fill:#000}"
".f{cursor:pointer}.f:hover rect{stroke:#000;stroke-width:0.5}"
".anc rect{opacity:0.5}.hid{display:none}.btn{cursor:pointer;fill:#00c}"
"#title{font-size:17px;text-anchor:middle}"
"input{font:12px monospace;width:220px}";

int
cli_flame_write(const cli_flame_t *fg, FILE *f, const char *title,
    const char *countname)
{
	cli_flame_out_t o = { f, fg->fg_root.fn_count, 0, countname };
	int height;

	if (o.fo_total == 0)
		o.fo_total = 1;		/* an empty graph: "all" alone */
	height = FG_TOP + (fg->fg_depth + 1) * FG_ROW + FG_BOTTOM;
	o.fo_height = height;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
	    FG_WIDTH, height, FG_WIDTH, height);
	fprintf(f, "<style type=\"text/css\"><![CDATA[%s]]></style>\n"
	    "<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n",
	    cli_flame_css, cli_flame_js);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
	    "fill=\"#f8f4ec\"/>\n<text id=\"title\" x=\"%d\" y=\"24\">",
	    FG_WIDTH, height, FG_WIDTH / 2);
	cli_xml_str(f, title);
	fprintf(f, "</text>\n<text id=\"unzoom\" class=\"btn hid\" x=\"%d\" "
	    "y=\"24\">Reset zoom</text>\n", FG_PAD);
	fprintf(f, "<foreignObject x=\"%d\" y=\"8\" width=\"240\" "
	    "height=\"26\"><input xmlns=\"http://www.w3.org/1999/xhtml\" "
	    "id=\"search\" type=\"search\" placeholder=\"search (regex)\"/>"
	    "</foreignObject>\n", FG_WIDTH - FG_PAD - 240);
	fprintf(f, "<text id=\"matched\" x=\"%d\" y=\"50\" "
	    "style=\"text-anchor:end\"> </text>\n", FG_WIDTH - FG_PAD);
	fprintf(f, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n",
	    FG_PAD, height - 12);
	cli_flame_node(&o, &fg->fg_root, 0, 0);
	fprintf(f, "</svg>\n");
	return ferror(f) ? -1 : 0;
}

static void
cli_fnode_free(cli_fnode_t *k)
{
	while (k != NULL) {
		cli_fnode_t *next = k->fn_next;

		cli_fnode_free(k->fn_kids);
		free(k->fn_name);
		free(k);
		k = next;
	}
}

void
cli_flame_free(cli_flame_t *fg)
{
	if (fg == NULL)
		return;
	cli_fnode_free(fg->fg_root.fn_kids);
	free(fg->fg_root.fn_name);
	free(fg);
}
