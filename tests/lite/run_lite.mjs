// Run a workbook's xlwings Lite code (main.py, requirements.txt) in real Pyodide under Node,
// offline, and print what its functions return and what its Refresh script writes.
//
//   node run_lite.mjs PYODIDE_DIR WHEELS_DIR JOB.json
//
// JOB.json: {main, requirements, lite_book (source of tests/lite/lite_book.py),
//            calls: [[function, args]...], books: [{payload, formulas}...]}
// Requirements are installed as Lite installs them: a package Pyodide ships is loaded from
// the distribution, any other from its wheel (as micropip would fetch it from PyPI). The
// xlwings wheel goes in without its pro/ folder (commercial licence): nothing can load it.
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [pyodideDir, wheelsDir, jobFile] = process.argv.slice(2).map((p) => resolve(p));
const job = JSON.parse(readFileSync(jobFile, "utf-8"));
const { loadPyodide } = await import(pathToFileURL(join(pyodideDir, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: pyodideDir + "/", stdout: () => {}, stderr: (s) => process.stderr.write(s + "\n") });
const shipped = new Set(Object.keys(pyodide._api.lockfile_packages));
const wheels = readdirSync(wheelsDir).filter((f) => f.endsWith(".whl"));
const norm = (s) => s.toLowerCase().replace(/[-_.]+/g, "_");

async function installWheel(file) {
  pyodide.unpackArchive(new Uint8Array(readFileSync(join(wheelsDir, file))), "wheel");
}

for (const line of job.requirements.split("\n").map((l) => l.trim()).filter(Boolean)) {
  const name = line.split(/[=<>~ ]/)[0];
  if (shipped.has(name.toLowerCase())) {
    await pyodide.loadPackage(name.toLowerCase(), { messageCallback: () => {} });
    continue;
  }
  const wheel = wheels.find((f) => norm(f.split("-")[0]) === norm(name));
  if (!wheel) throw new Error(`requirement ${line}: neither in Pyodide nor in ${wheelsDir}`);
  await installWheel(wheel);
  // Its own dependencies, as micropip resolves them (openpyxl needs et_xmlfile).
  const requires = pyodide.runPython(`
import importlib.metadata as m
[r.split(";")[0].split(" ")[0].split(">")[0].split("=")[0].split("<")[0]
 for r in (m.requires("${name}") or []) if "extra ==" not in r]`).toJs();
  for (const dep of requires) {
    if (shipped.has(dep.toLowerCase())) await pyodide.loadPackage(dep.toLowerCase(), { messageCallback: () => {} });
    else {
      const depWheel = wheels.find((f) => norm(f.split("-")[0]) === norm(dep));
      if (depWheel) await installWheel(depWheel);
    }
  }
}
pyodide.runPython(`
import shutil, site, os
for folder in site.getsitepackages():
    shutil.rmtree(os.path.join(folder, "xlwings", "pro"), ignore_errors=True)
`);

pyodide.FS.mkdirTree("/home/pyodide/lite");
pyodide.FS.writeFile("/home/pyodide/lite/main.py", job.main);
pyodide.FS.writeFile("/home/pyodide/lite/lite_book.py", job.lite_book);
pyodide.globals.set("job_json", JSON.stringify(job));
let out;
try {
out = await pyodide.runPythonAsync(`
import inspect, json, sys, typing
sys.path.insert(0, "/home/pyodide/lite")
job = json.loads(job_json)
import main  # as Lite loads the workbook's code
import xlwings as xw
import lite_book

assert "xlwings.pro" not in sys.modules and "xlwings.server" not in sys.modules

def jsonable(value):
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return lite_book.to_json(value)

functions = [jsonable(getattr(main, name)(*args)) for name, args in job["calls"]]

async def run_script(function, book):
    # As Lite calls a script: the workbook goes to the argument with the xw.Book hint.
    hints = typing.get_type_hints(function)
    kwargs = {name: book for name, hint in hints.items() if hint is xw.Book}
    result = function(**kwargs)
    if inspect.isawaitable(result):
        await result

books = []
for item in job["books"]:
    book = lite_book.Book(item["payload"], item["formulas"])
    await run_script(main.refresh, book)
    names = [s.name for s in book.sheets]
    books.append({"actions": [[a["func"], names[a["sheet_position"]], a["args"]]
                              for a in book.actions],
                  "sheets": book.applied()})
json.dumps({"functions": functions, "books": books, "python": sys.version.split()[0],
            "numpy": sys.modules["numpy"].__version__, "pandas": sys.modules["pandas"].__version__})
`);
} catch (error) {
  // A Python error: its traceback, not the minified runtime around it.
  process.stderr.write(String(error.message || error).slice(-6000) + "\n");
  process.exit(1);
}
process.stdout.write(out);
