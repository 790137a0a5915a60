import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@drive-import/common';
import { parseFolderUrl } from '../src/drive-url.ts';

const ID = '1AbC_dEf-GhIjKlMnOpQrStUvWxYz0123';
const SHORT_ID = '0B1234567890abcdefg'; // 19 chars, the older form

describe('parseFolderUrl accepts every form Google hands out', () => {
  const accepted: Array<[string, string, string | null]> = [
    [`https://drive.google.com/drive/folders/${ID}`, ID, null],
    [`https://drive.google.com/drive/folders/${ID}/`, ID, null],
    [`https://drive.google.com/drive/u/0/folders/${ID}`, ID, null],
    [`https://drive.google.com/drive/u/3/folders/${ID}?usp=sharing`, ID, null],
    [`https://drive.google.com/drive/folders/${ID}?usp=sharing`, ID, null],
    [`https://drive.google.com/drive/folders/${ID}?usp=drive_link`, ID, null],
    [`https://drive.google.com/drive/folders/${SHORT_ID}?resourcekey=0-AbCdEf_123`, SHORT_ID, '0-AbCdEf_123'],
    [`https://drive.google.com/drive/folders/${ID}?resourcekey=0-xyz&usp=sharing`, ID, '0-xyz'],
    [`https://drive.google.com/drive/folders/${ID}#fragment`, ID, null],
    [`https://drive.google.com/open?id=${ID}`, ID, null],
    [`https://drive.google.com/open?id=${ID}&resourcekey=0-k`, ID, '0-k'],
    [`https://drive.google.com/folderview?id=${ID}`, ID, null],
    [`https://drive.google.com/folderview?id=${ID}&usp=sharing`, ID, null],
    [`HTTPS://DRIVE.GOOGLE.COM/drive/folders/${ID}`, ID, null],
    [`http://drive.google.com/drive/folders/${ID}`, ID, null],
    [`drive.google.com/drive/folders/${ID}`, ID, null],
    [ID, ID, null],
    [SHORT_ID, SHORT_ID, null],
    ['abcdefghij', 'abcdefghij', null],
    [`   ${ID}\n`, ID, null],
    [`\t https://drive.google.com/drive/folders/${ID}?usp=sharing  \n`, ID, null],
  ];
  for (const [input, folderId, resourceKey] of accepted) {
    it(JSON.stringify(input), () => {
      assert.deepEqual(parseFolderUrl(input), { folderId, resourceKey });
    });
  }
});

describe('parseFolderUrl rejects everything else with a 400 naming the accepted forms', () => {
  const rejected: Array<[string, string]> = [
    ['empty', ''],
    ['blanks', '   \n\t '],
    ['file URL', `https://drive.google.com/file/d/${ID}/view?usp=sharing`],
    ['Docs URL', `https://docs.google.com/document/d/${ID}/edit`],
    ['Sheets URL', `https://docs.google.com/spreadsheets/d/${ID}/edit`],
    ['other host', `https://example.com/drive/folders/${ID}`],
    ['look-alike host suffix', `https://drive.google.com.evil.io/drive/folders/${ID}`],
    ['host in path', `https://evil.com/drive.google.com/drive/folders/${ID}`],
    ['userinfo pretending to be the host', `https://drive.google.com@evil.com/drive/folders/${ID}`],
    ['userinfo before the real host', `https://evil.com@drive.google.com/drive/folders/${ID}`],
    ['user and password', `https://a:b@drive.google.com/drive/folders/${ID}`],
    ['backslash trick', `https://evil.com\\@drive.google.com/drive/folders/${ID}`],
    ['sub-domain', `https://www.drive.google.com/drive/folders/${ID}`],
    ['parent domain', `https://google.com/drive/folders/${ID}`],
    ['trailing dot host', `https://drive.google.com./drive/folders/${ID}`],
    ['port', `https://drive.google.com:8443/drive/folders/${ID}`],
    ['javascript:', `javascript:alert(1)//drive.google.com/drive/folders/${ID}`],
    ['data:', `data:text/html,drive.google.com/drive/folders/${ID}`],
    ['ftp:', `ftp://drive.google.com/drive/folders/${ID}`],
    ['10 kB of junk', 'x'.repeat(10_000)],
    ['10 kB URL', `https://drive.google.com/drive/folders/${ID}?q=${'a'.repeat(10_000)}`],
    ['id too short', 'abc123'],
    ['id too short in URL', 'https://drive.google.com/drive/folders/abc'],
    ['bad id characters', `1AbC$dEf%GhIjKl`],
    ['quote in id (query injection)', `https://drive.google.com/drive/folders/abcdefghij'or'1'='1`],
    ['encoded id', `https://drive.google.com/drive/folders/%41${ID}`],
    ['id with space', `abcdefghij klmnop`],
    ['tab inside the URL', `https://drive.google.com/drive/fol\tders/${ID}`],
    ['newline inside the URL', `https://drive.google.com/drive/folders/\n${ID}`],
    ['open without id', 'https://drive.google.com/open?usp=sharing'],
    ['open with two ids', `https://drive.google.com/open?id=${ID}&id=${SHORT_ID}`],
    ['open with bad id', 'https://drive.google.com/open?id=../../etc'],
    ['extra path after the id', `https://drive.google.com/drive/folders/${ID}/extra`],
    ['folders without id', 'https://drive.google.com/drive/folders/'],
    ['drive home', 'https://drive.google.com/drive/my-drive'],
    ['bad resource key', `https://drive.google.com/drive/folders/${ID}?resourcekey=a'b`],
    ['two resource keys', `https://drive.google.com/drive/folders/${ID}?resourcekey=a&resourcekey=b`],
    ['u with letters', `https://drive.google.com/drive/u/x/folders/${ID}`],
    ['mailto', 'mailto:someone@drive.google.com'],
  ];
  for (const [label, input] of rejected) {
    it(label, () => {
      assert.throws(
        () => parseFolderUrl(input),
        (err: unknown) => {
          assert.ok(err instanceof AppError, `expected AppError, got ${String(err)}`);
          assert.equal(err.status, 400);
          assert.equal(err.code, 'invalid_folder_url');
          assert.match(err.message, /Accepted forms: .*drive\.google\.com\/drive\/folders\/<ID>.*open\?id=<ID>.*folderview\?id=<ID>.*bare folder ID/);
          assert.ok(err.message.length < 1000, 'the message does not echo 10 kB back');
          return true;
        },
      );
    });
  }

  it('says when a link is a file link', () => {
    assert.throws(() => parseFolderUrl(`https://drive.google.com/file/d/${ID}/view`), /link to a file, not to a folder/);
  });
});
