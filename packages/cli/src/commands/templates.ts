// `snapwire templates list|get|put|delete`: the project's saved extraction templates (/extraction/templates).
import type { Command } from 'commander';
import { SnapwireClient } from '@snapwire/sdk';
import {
  addConnectionOptions,
  explainCallFailure,
  resolveConnection,
  type ConnectionOptions,
} from '../connection.js';
import { print } from '../output.js';
import { readTemplateFile } from './template-file.js';

interface Connection extends ConnectionOptions {
  json?: boolean;
}

export function registerTemplateCommands(program: Command): void {
  const templates = addConnectionOptions(
    program
      .command('templates')
      .description(
        "saved extraction templates of the key's project and environment (extraction_template=persistent:NAME)",
      ),
  ).option('--json', 'print JSON');
  const connection = (): Connection => templates.opts<Connection>();
  /** Runs one call with the group's connection; a refusal becomes one line. */
  const run = async <T>(call: (client: SnapwireClient) => Promise<T>): Promise<T> => {
    const { host, key } = resolveConnection(connection());
    try {
      return await call(new SnapwireClient({ host, key }));
    } catch (error) {
      explainCallFailure(error, host);
    }
  };

  templates
    .command('list')
    .description('the saved templates, by name')
    .action(async () => {
      const list = await run((client) => client.listTemplates());
      print(connection().json, list, () =>
        list.length === 0
          ? 'no saved templates (save one with: snapwire templates put NAME FILE)'
          : list
              .map(
                (saved) =>
                  `${saved.name}  ${saved.template.selectors.length} selectors  updated ${saved.updated_at}`,
              )
              .join('\n'),
      );
    });

  templates
    .command('get <name>')
    .description('print a saved template (its JSON, as put saves it)')
    .action(async (name: string) => {
      const saved = await run((client) => client.getTemplate(name));
      print(connection().json, saved, () => JSON.stringify(saved.template, null, 2));
    });

  templates
    .command('put <name> <file>')
    .description(
      'save the template in FILE (JSON) under NAME, replacing one of that name; its rules are checked',
    )
    .action(async (name: string, file: string) => {
      const template = await readTemplateFile(file);
      const saved = await run((client) => client.putTemplate(name, template));
      print(
        connection().json,
        saved,
        () => `saved ${saved.name} (${saved.template.selectors.length} selectors)`,
      );
    });

  templates
    .command('delete <name>')
    .description('delete a saved template')
    .action(async (name: string) => {
      await run((client) => client.deleteTemplate(name));
      print(connection().json, { deleted: name }, () => `deleted ${name}`);
    });
}
