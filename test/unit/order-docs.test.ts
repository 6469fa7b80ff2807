/**
 * The order's reference docs keep up with its code: docs/reference/commands.md has a row for
 * every command, docs/reference/api.md one for every permission code a 403 can carry and names
 * every status a list takes (its 422 rules: test/unit/docs.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ORDER_PERMISSIONS, ORDER_STATUSES, orderCommandSchemas } from '../../lambdas/domain/order';

const read = (file: string) => readFileSync(join(__dirname, '../..', file), 'utf8');
const commandsDoc = read('docs/reference/commands.md');
const apiDoc = read('docs/reference/api.md');

test.each(Object.keys(orderCommandSchemas))(
  'docs/reference/commands.md has a row for the command %s',
  (type) => {
    expect(commandsDoc).toMatch(new RegExp(`^\\|\\s*\`${type}\`\\s*\\|`, 'm'));
  },
);

test.each(Object.keys(ORDER_PERMISSIONS))(
  'docs/reference/api.md lists the permission %s of the order',
  (rule) => {
    expect(apiDoc).toMatch(new RegExp(`^\\|\\s*\`${rule}\`\\s*\\|\\s*[^|]*\\border\\b`, 'm'));
  },
);

test.each(ORDER_STATUSES.filter((status) => status !== 'deleted'))(
  'docs/reference/api.md names the listed status %s',
  (status) => {
    expect(apiDoc).toContain(`\`${status}\``);
  },
);
