/** The console's one stylesheet, served from /assets/console.css (the CSP allows styles from 'self' only). */
export const CONSOLE_CSS = `
:root { font-family: system-ui, "Noto Sans CJK SC", "PingFang SC", sans-serif; color: #1b1b1b; background: #fafafa; }
body { margin: 0; }
a { color: #0b57d0; }
a:focus, button:focus, input:focus, select:focus { outline: 3px solid #f59f00; outline-offset: 2px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; z-index: 10; }
header { background: #12263a; color: #fff; padding: 8px 16px; display: flex; flex-wrap: wrap; align-items: center; gap: 12px; }
header h1 { font-size: 18px; margin: 0 16px 0 0; }
header nav a { color: #fff; margin-right: 12px; text-decoration: none; }
header nav a[aria-current="page"] { text-decoration: underline; font-weight: bold; }
header form { display: inline; margin: 0; }
header button { background: #fff; border: 0; padding: 4px 10px; border-radius: 3px; cursor: pointer; }
main { padding: 16px 24px 48px; max-width: 1100px; }
.banner { padding: 12px 24px; font-weight: bold; }
.banner.ok { background: #d3f9d8; color: #1b4d24; border-bottom: 2px solid #2b8a3e; }
.banner.failing { background: #c92a2a; color: #fff; font-size: 22px; border-bottom: 6px solid #7a1010; }
.banner p { margin: 4px 0 0; font-weight: normal; font-size: 14px; }
.banner details { font-weight: normal; font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0 20px; background: #fff; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; font-size: 14px; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0 20px; }
.card { background: #fff; border: 1px solid #ddd; padding: 10px 14px; min-width: 180px; }
.card b { display: block; font-size: 22px; }
.chart { width: 100%; max-width: 720px; height: auto; background: #fff; border: 1px solid #ddd; }
.bad { color: #c92a2a; font-weight: bold; }
.good { color: #2b8a3e; font-weight: bold; }
code, .mono { font-family: ui-monospace, monospace; font-size: 13px; word-break: break-all; }
form.inline { display: inline; }
label { display: block; margin: 8px 0 4px; }
input[type=password], input[type=month] { padding: 6px; font-size: 15px; }
button.primary { padding: 6px 14px; font-size: 15px; }
.report h1 { font-size: 22px; }
@media print {
  header, .noprint { display: none; }
  main { max-width: none; padding: 0; }
  .report section { break-inside: avoid; }
}
`;
