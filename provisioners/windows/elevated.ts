/**
 * Elevated PowerShell (`elevated_user` / `elevated_password`), following
 * Packer's approach: a WinRM logon has a filtered token, so the command runs
 * as a Windows scheduled task registered for the elevated user with the
 * highest run level. A runner script (uploaded, because it carries the
 * password, which must not travel in a command line or reach any log)
 * registers the task, starts it, relays the output the task writes to a log
 * file, removes the task, the log and itself, and exits with the task's
 * result.
 *
 * The test emulator cannot run the Task Scheduler, so the runner's text is
 * verified by unit tests but never executed here.
 */

/** What the runner needs. */
export interface ElevatedRunnerInput {
  /** The rendered elevated_execute_command. */
  command: string;
  user: string;
  /** Empty: the task runs as a service account (SYSTEM, LOCAL SERVICE) without a password. */
  password: string;
  /** Unique id for the task, its log file and the runner's path. */
  id: string;
}

/** The runner to upload and the command that runs it. */
export interface ElevatedRunner {
  remotePath: string;
  script: string;
  command: string;
}

/** Escapes text for an XML element. */
export function xmlText(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&apos;");
}

/** A single-quoted PowerShell string literal: nothing inside is expanded. */
export function psLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function taskXml(input: ElevatedRunnerInput, argumentsText: string): string {
  // Without a password the task must use the service-account logon: the
  // LogonType element would demand one.
  const logon = input.password === "" ? "" : "<LogonType>Password</LogonType>";
  return [
    `<?xml version="1.0" encoding="UTF-16"?>`,
    `<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">`,
    `<RegistrationInfo><Description>kiln elevated provisioner</Description></RegistrationInfo>`,
    `<Principals><Principal id="Author"><UserId>${xmlText(input.user)}</UserId>${logon}` +
    `<RunLevel>HighestAvailable</RunLevel></Principal></Principals>`,
    `<Settings><MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>` +
    `<DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>` +
    `<StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>` +
    `<AllowHardTerminate>true</AllowHardTerminate><StartWhenAvailable>false</StartWhenAvailable>` +
    `<AllowStartOnDemand>true</AllowStartOnDemand><Enabled>true</Enabled><Hidden>false</Hidden>` +
    `<ExecutionTimeLimit>PT0S</ExecutionTimeLimit><Priority>4</Priority></Settings>`,
    `<Actions Context="Author"><Exec><Command>cmd</Command>` +
    `<Arguments>/c ${xmlText(argumentsText)}</Arguments></Exec></Actions>`,
    `</Task>`,
  ].join("\r\n");
}

/** Builds the runner for one elevated command. */
export function elevatedRunner(input: ElevatedRunnerInput): ElevatedRunner {
  const taskName = `packer-${input.id}`;
  // %SYSTEMROOT% (not $env:) because cmd.exe, not PowerShell, expands the redirection.
  const logFile = `%SYSTEMROOT%/Temp/${taskName}.out`;
  const remotePath = `C:/Windows/Temp/packer-elevated-shell-${input.id}.ps1`;
  const logonType = input.password === "" ? 5 : 1;
  const password = input.password === "" ? "$null" : psLiteral(input.password);
  const script = [
    `$ProgressPreference = 'SilentlyContinue'`,
    `$taskName = ${psLiteral(taskName)}`,
    `$log = [Environment]::ExpandEnvironmentVariables(${psLiteral(logFile)})`,
    `$service = New-Object -ComObject 'Schedule.Service'`,
    `$service.Connect()`,
    `$definition = $service.NewTask(0)`,
    `$definition.XmlText = ${psLiteral(taskXml(input, `${input.command} > ${logFile} 2>&1`))}`,
    `$folder = $service.GetFolder('\\')`,
    `$task = $folder.RegisterTaskDefinition($taskName, $definition, 6, ${
      psLiteral(input.user)
    }, ${password}, ${logonType}, $null)`,
    `$task.Run($null) | Out-Null`,
    // 4 = running, 3 = ready (finished): wait up to 10 s for the start, then tail the log.
    `for ($i = 0; $task.State -ne 4 -and $task.State -ne 3 -and $i -lt 100; $i++) { Start-Sleep -Milliseconds 100 }`,
    `$shown = 0`,
    `do {`,
    `  Start-Sleep -Milliseconds 100`,
    `  $done = $task.State -ne 4`,
    `  if (Test-Path $log) {`,
    `    $lines = @(Get-Content $log)`,
    `    for (; $shown -lt $lines.Count; $shown++) { Write-Output $lines[$shown] }`,
    `  }`,
    `} while (-not $done)`,
    `$result = $task.LastTaskResult`,
    `Remove-Item $log -Force -ErrorAction SilentlyContinue`,
    `$folder.DeleteTask($taskName, 0)`,
    `Remove-Item ${psLiteral(remotePath)} -Force -ErrorAction SilentlyContinue`,
    `exit $result`,
    ``,
  ].join("\r\n");
  return {
    remotePath,
    script,
    command: `powershell -executionpolicy bypass -file "${remotePath}"`,
  };
}
