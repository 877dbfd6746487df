/**
 * The PowerShell that moves files over WinRM, and the line protocol it
 * speaks. One command carries a whole transfer: uploads stream base64 lines
 * into the command's stdin (WinRS Send), downloads stream them out of its
 * stdout (Receive). Markers start with `>`, which base64 never contains:
 *
 *   >D <b64 utf-8 path>          create a directory
 *   >F <b64 utf-8 path>          start a file (parents created, truncated)
 *   <base64 data>                append to the current file
 *   >E <size> <sha256 hex>       end of file: both sides check size and hash
 *
 * Upload paths are absolute Windows paths; download paths are relative to
 * the local destination. The first line of each script names it, so the
 * project's test server can recognise kiln's own snippets.
 */

/** First line of the upload script. */
export const UPLOAD_MARKER = "# kiln:upload v1";
/** First line of the download script. */
export const DOWNLOAD_MARKER = "# kiln:download v1";

const PRELUDE = [
  "$ErrorActionPreference = 'Stop'",
  "$ProgressPreference = 'SilentlyContinue'",
  "trap { [Console]::Error.WriteLine($_.Exception.Message); exit 1 }",
  "function Hex($h) { -join ($h.Hash | ForEach-Object { $_.ToString('x2') }) }",
];

/** Reads the line protocol from stdin and writes the files it describes. */
export function uploadScript(): string {
  return [
    UPLOAD_MARKER,
    ...PRELUDE,
    "function P([string]$b) { [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($b)) }",
    "$in = [Console]::In; $f = $null; $h = $null; $n = ''",
    "while ($null -ne ($l = $in.ReadLine())) {",
    "  if ($l.Length -eq 0) { continue }",
    "  if ($l[0] -ne '>') { $b = [Convert]::FromBase64String($l); $f.Write($b, 0, $b.Length)",
    "    [void]$h.TransformBlock($b, 0, $b.Length, $null, 0); continue }",
    "  $a = $l.Substring(1).Split(' ')",
    "  if ($a[0] -eq 'D') { [void][IO.Directory]::CreateDirectory((P $a[1])) }",
    "  elseif ($a[0] -eq 'F') { $n = P $a[1]; $d = [IO.Path]::GetDirectoryName($n)",
    "    if ($d) { [void][IO.Directory]::CreateDirectory($d) }",
    "    $f = [IO.File]::Create($n); $h = [Security.Cryptography.SHA256]::Create() }",
    "  elseif ($a[0] -eq 'E') { [void]$h.TransformFinalBlock((New-Object byte[] 0), 0, 0)",
    "    $len = $f.Length; $f.Close(); $s = Hex $h",
    "    if ($len -ne [long]$a[1] -or $s -ne $a[2]) {",
    '      [Console]::Error.WriteLine("${n}: wrote $len bytes (sha256 $s), expected $($a[1]) (sha256 $($a[2]))"); exit 2 } }',
    "}",
  ].join("\n");
}

/** How the download script treats its source. */
export type DownloadMode = "file" | "dir" | "glob";

function psQuote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Streams `src` (a file, a directory, or a wildcard's matches) out as the line protocol. */
export function downloadScript(src: string, mode: DownloadMode): string {
  return [
    DOWNLOAD_MARKER,
    `$src = ${psQuote(src)}`,
    `$mode = '${mode}'`,
    ...PRELUDE,
    "$o = [Console]::Out",
    "function B([string]$s) { [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($s)) }",
    "function SendFile($path, $rel) { $o.WriteLine('>F ' + (B $rel))",
    "  $h = [Security.Cryptography.SHA256]::Create(); $fs = [IO.File]::OpenRead($path)",
    "  $buf = New-Object byte[] 393216; $n = 0",
    "  while (($r = $fs.Read($buf, 0, $buf.Length)) -gt 0) {",
    "    $o.WriteLine([Convert]::ToBase64String($buf, 0, $r)); [void]$h.TransformBlock($buf, 0, $r, $null, 0); $n += $r }",
    "  $fs.Close(); [void]$h.TransformFinalBlock((New-Object byte[] 0), 0, 0)",
    "  $o.WriteLine('>E ' + $n + ' ' + (Hex $h)) }",
    "function SendDir($path, $rel) { $o.WriteLine('>D ' + (B $rel))",
    "  foreach ($c in Get-ChildItem -LiteralPath $path -Force) {",
    '    if ($c.PSIsContainer) { SendDir $c.FullName "$rel/$($c.Name)" } else { SendFile $c.FullName "$rel/$($c.Name)" } } }',
    "if ($mode -eq 'file') { SendFile $src (Split-Path -Leaf $src) }",
    "elseif ($mode -eq 'dir') { $i = Get-Item -LiteralPath $src; SendDir $i.FullName $i.Name }",
    "else { foreach ($i in @(Get-Item -Path $src)) {",
    "  if ($i.PSIsContainer) { SendDir $i.FullName $i.Name } else { SendFile $i.FullName $i.Name } } }",
    "$o.Flush()",
  ].join("\n");
}

/** Base64 of the script's UTF-16LE bytes, as powershell -EncodedCommand wants. */
export function encodePowerShell(script: string): string {
  const bytes = new Uint8Array(script.length * 2);
  for (let i = 0; i < script.length; i++) {
    const c = script.charCodeAt(i);
    bytes[2 * i] = c & 0xff;
    bytes[2 * i + 1] = c >> 8;
  }
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** The cmd.exe command line that runs `script` in Windows PowerShell. */
export function powershellCommand(script: string): string {
  return `powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${
    encodePowerShell(script)
  }`;
}

/** Reads the PowerShell out of a command line made by `powershellCommand` (or pywinrm's run_ps). */
export function decodePowerShell(commandLine: string): string | undefined {
  const m = commandLine.match(/-(?:e|ec|enc|encodedcommand)\s+([A-Za-z0-9+/=]+)/i);
  if (!m) return undefined;
  const bin = atob(m[1]);
  let out = "";
  for (let i = 0; i + 1 < bin.length; i += 2) {
    out += String.fromCharCode(bin.charCodeAt(i) | (bin.charCodeAt(i + 1) << 8));
  }
  return out;
}
