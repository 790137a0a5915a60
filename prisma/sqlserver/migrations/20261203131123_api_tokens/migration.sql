BEGIN TRY

BEGIN TRAN;

-- AlterTable
ALTER TABLE [dbo].[import_jobs] ADD [owner] NVARCHAR(64);

-- CreateTable
CREATE TABLE [dbo].[api_tokens] (
    [name] NVARCHAR(64) NOT NULL,
    [hash] NVARCHAR(64) NOT NULL,
    [admin] BIT NOT NULL CONSTRAINT [api_tokens_admin_df] DEFAULT 0,
    [created_at] DATETIME2 NOT NULL CONSTRAINT [api_tokens_created_at_df] DEFAULT CURRENT_TIMESTAMP,
    [revoked_at] DATETIME2,
    CONSTRAINT [api_tokens_pkey] PRIMARY KEY CLUSTERED ([name]),
    CONSTRAINT [api_tokens_hash_key] UNIQUE NONCLUSTERED ([hash])
);

-- CreateIndex
CREATE NONCLUSTERED INDEX [import_jobs_owner_created_at_idx] ON [dbo].[import_jobs]([owner], [created_at]);

COMMIT TRAN;

END TRY
BEGIN CATCH

IF @@TRANCOUNT > 0
BEGIN
    ROLLBACK TRAN;
END;
THROW

END CATCH
